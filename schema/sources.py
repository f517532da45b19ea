"""The GraphQL ``Source`` enum: one value per registered vendor, named by its source in
capitals (``SHOPIFY``).

A vendor is added by registering it (:mod:`connectors.vendors`), not by editing this module,
so the enum cannot be a Python enum written out here. :class:`SourceName` stands for it in
type annotations; its strawberry definition wraps :class:`connectors.records.Source` (a
record's ``source`` is served as it is, and an argument of this type arrives as a ``Source``)
and :func:`declare_sources` sets its values from the registry each time a schema is built,
so a schema lists the vendors registered when it was built.
"""

from __future__ import annotations

import enum
from typing import Any, cast

from strawberry.types.enum import EnumValue, StrawberryEnumDefinition

from connectors import vendors as registry
from connectors.records import Source


class SourceName(enum.Enum):
    """The GraphQL ``Source`` enum in annotations (``source: SourceName``); fields of this
    type are given :class:`~connectors.records.Source` values."""


_DEFINITION = StrawberryEnumDefinition(
    wrapped_cls=cast(Any, Source), name="Source", values=[], description=None
)
SourceName.__strawberry_definition__ = _DEFINITION  # type: ignore[attr-defined]


def declare_sources() -> None:
    """Give the enum one value per registered vendor, in registration order."""
    _DEFINITION.values = [
        EnumValue(name=vendor.name.upper(), value=vendor.name) for vendor in registry.vendors()
    ]


def source_name(source: Source) -> SourceName:
    """``source`` as a value of a field typed :class:`SourceName` (served as it is)."""
    return cast(SourceName, source)
