"""The profile properties Omnigate writes to Klaviyo, and how values are put on the wire.

Klaviyo custom properties are free-form, so ours carry a prefix (``omnigate_`` by default, a
setting) that keeps them apart from properties other integrations write and makes them easy to
find in Klaviyo's segment builder. Callers may use the short domain names below; any other key is
written unchanged, so a caller can still set a property of its own choosing.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.records import Money

#: Domain name -> property suffix. The written name is ``prefix + suffix``.
WRITTEN: dict[str, str] = {
    "points": "loyalty_points",
    "pending_points": "loyalty_pending_points",
    "lifetime_points": "loyalty_lifetime_points",
    "tier": "loyalty_tier",
    "member_code": "loyalty_member_code",
    "points_expire_at": "loyalty_points_expire_at",
    "lifetime_value": "lifetime_value",
    "omnichannel": "omnichannel",
    "favourite_store": "favourite_store",
    "unified_id": "unified_id",
}

#: Spellings callers might use for the same fields.
ALIASES: dict[str, str] = {
    "loyalty_points": "points",
    "loyalty_tier": "tier",
    "ltv": "lifetime_value",
    "is_omnichannel": "omnichannel",
    "favorite_store": "favourite_store",
    "unified_profile_id": "unified_id",
}

DEFAULT_PREFIX = "omnigate_"


def property_name(key: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The Klaviyo property a domain key is written to; unknown keys are kept as they are."""
    domain = ALIASES.get(key, key)
    suffix = WRITTEN.get(domain)
    return prefix + suffix if suffix is not None else key


def wire_value(value: object) -> Any:
    """A JSON value Klaviyo can segment on. Money and Decimal become numbers rounded to cents
    (Klaviyo compares numbers, not strings), datetimes ISO-8601 strings, enums their value."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("property values must be finite numbers")
        return value
    if isinstance(value, Money):
        return float(round(value.amount, 2))
    if isinstance(value, Decimal):
        return float(round(value, 2))
    if isinstance(value, enum.Enum):
        return wire_value(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [wire_value(v) for v in value]
    raise TypeError(f"cannot write a {type(value).__name__} as a Klaviyo property")


def wire_properties(
    properties: Mapping[str, object], prefix: str = DEFAULT_PREFIX
) -> tuple[dict[str, Any], list[str]]:
    """(properties to set, property names to unset). ``None`` means "remove the property",
    which Klaviyo does through ``meta.patch_properties.unset``, not by storing a null."""
    to_set: dict[str, Any] = {}
    to_unset: list[str] = []
    for key, value in properties.items():
        name = property_name(key, prefix)
        if value is None:
            to_unset.append(name)
        else:
            to_set[name] = wire_value(value)
    return to_set, to_unset
