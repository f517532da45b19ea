"""The registered vendors: the built-in ones, each named here once, and any registered later.

Everything that varies by vendor (settings, connectors, webhook routes, the demo's sandboxes,
the schema's ``Source`` enum, identity limits, name and location precedence) is read from
these declarations, in registration order. A built-in vendor is one line of
:data:`BUILT_IN`: its package, which exports ``VENDOR`` (a :class:`~connectors.vendor.Vendor`).
Another is added with :func:`register` (tests register a vendor of their own this way).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from connectors.records import Source
from connectors.vendor import Vendor

#: The built-in vendors' packages, in the order everything lists them.
BUILT_IN: tuple[str, ...] = (
    "connectors.shopify",
    "connectors.square",
    "connectors.klaviyo",
)

_registered: dict[Source, Vendor[Any]] = {}
_loaded = False
#: Precedence ranks by source, computed once per registration change.
_ranks: dict[str, dict[Source, tuple[float, int]]] = {}


def vendors() -> tuple[Vendor[Any], ...]:
    """Every registered vendor, built-ins first."""
    _load_built_ins()
    return tuple(_registered.values())


def get(source: Source | str) -> Vendor[Any] | None:
    _load_built_ins()
    return _registered.get(Source(source))


def names() -> list[str]:
    return [v.name for v in vendors()]


def register(vendor: Vendor[Any]) -> None:
    """Add a vendor (after the built-ins). Its name must be new."""
    _load_built_ins()
    if vendor.source in _registered:
        raise ValueError(f"a vendor named {vendor.name!r} is registered already")
    _registered[vendor.source] = vendor
    _ranks.clear()


def unregister(vendor: Vendor[Any]) -> None:
    """Remove a vendor added with :func:`register` (tests undo theirs)."""
    if _registered.get(vendor.source) is vendor:
        del _registered[vendor.source]
        _ranks.clear()


def identity_limits() -> dict[str, int]:
    """Each vendor's default limit of records in one profile (``OMNIGATE_IDENTITY_LIMITS``)."""
    return {v.name: v.identity_limit for v in vendors()}


def name_precedence() -> dict[Source, tuple[float, int]]:
    """Sort keys by source for names and addresses: lower wins; ties go to the vendor
    registered first. A source no vendor declares sorts last."""
    return _ranked("name", lambda v: v.name_precedence)


def location_precedence() -> dict[Source, tuple[float, int]]:
    """Sort keys by source for the description of a shared location (lower wins); vendors
    that declare none come after those that do."""
    return _ranked("location", lambda v: v.location_precedence)


def stock_precedence() -> dict[Source, tuple[float, int]]:
    """Sort keys by source for the stock of a location two sources list (lower wins)."""
    return _ranked("stock", lambda v: v.stock_precedence)


#: The sort key of a source that no registered vendor ranks: after every vendor.
LAST: tuple[float, int] = (float("inf"), sys.maxsize)


def _ranked(kind: str, rank: Any) -> dict[Source, tuple[float, int]]:
    found = _ranks.get(kind)
    if found is None:
        found = {}
        for i, vendor in enumerate(vendors()):
            value = rank(vendor)
            found[vendor.source] = (float("inf") if value is None else value, i)
        _ranks[kind] = found
    return found


def _load_built_ins() -> None:
    """Import the built-in packages once, when first asked for: importing this module stays
    cheap, and no import order between it and the vendor packages can matter."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for package in BUILT_IN:
        vendor = importlib.import_module(package).VENDOR
        if not isinstance(vendor, Vendor):
            raise TypeError(f"{package}.VENDOR is not a Vendor")
        _registered[vendor.source] = vendor
