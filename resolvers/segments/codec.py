"""A :class:`~resolvers.segments.filters.CustomerFilter` as JSON and back: how a saved
segment keeps its filter, and how ``Segment.filter`` shows it.

The form is the GraphQL input's own (camelCase names, enum values as GraphQL spells them,
amounts as strings, times in ISO 8601, only the conditions set), so what a client reads
back can be sent again as a ``CustomerFilter``. Relative dates stay relative: the tree the
store answers is built from it at each evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.records import Source
from resolvers.segments.filters import AmountRange, CustomerFilter, IntRange, When
from resolvers.store.segments import ChannelMix

_LISTS = (
    ("bought_at_store", "boughtAtStore"),
    ("bought_skus", "boughtSkus"),
    ("loyalty_tier", "loyaltyTier"),
)
_WHENS = (("first_order", "firstOrder"), ("last_order", "lastOrder"))
_WHEN_PARTS = (
    ("before", "before"),
    ("after", "after"),
    ("within_days", "withinDays"),
    ("not_within_days", "notWithinDays"),
)


def dump(where: CustomerFilter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if where.all is not None:
        out["all"] = [dump(f) for f in where.all]
    if where.any is not None:
        out["any"] = [dump(f) for f in where.any]
    if where.channel is not None:
        out["channel"] = where.channel.name
    if where.lifetime_value is not None:
        lv = where.lifetime_value
        out["lifetimeValue"] = {
            k: str(v) for k, v in (("min", lv.min), ("max", lv.max)) if v is not None
        }
    for name, key in (("order_count", "orderCount"), ("points", "points")):
        r: IntRange | None = getattr(where, name)
        if r is not None:
            out[key] = {k: v for k, v in (("min", r.min), ("max", r.max)) if v is not None}
    for name, key in _WHENS:
        w: When | None = getattr(where, name)
        if w is not None:
            out[key] = {
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for attr, k in _WHEN_PARTS
                if (v := getattr(w, attr)) is not None
            }
    if where.favourite_store is not None:
        out["favouriteStore"] = where.favourite_store
    for name, key in _LISTS:
        values: tuple[str, ...] | None = getattr(where, name)
        if values is not None:
            out[key] = list(values)
    if where.email_consent is not None:
        out["emailConsent"] = where.email_consent
    if where.sms_consent is not None:
        out["smsConsent"] = where.sms_consent
    if where.in_source is not None:
        out["inSource"] = str(where.in_source).upper()
    return out


def load(raw: Mapping[str, Any]) -> CustomerFilter:
    def group(key: str) -> tuple[CustomerFilter, ...] | None:
        return None if key not in raw else tuple(load(f) for f in raw[key])

    def when(key: str) -> When | None:
        w = raw.get(key)
        if w is None:
            return None
        return When(
            before=datetime.fromisoformat(w["before"]) if "before" in w else None,
            after=datetime.fromisoformat(w["after"]) if "after" in w else None,
            within_days=w.get("withinDays"),
            not_within_days=w.get("notWithinDays"),
        )

    def int_range(key: str) -> IntRange | None:
        r = raw.get(key)
        return None if r is None else IntRange(r.get("min"), r.get("max"))

    def values(key: str) -> tuple[str, ...] | None:
        return None if key not in raw else tuple(raw[key])

    lv = raw.get("lifetimeValue")
    return CustomerFilter(
        all=group("all"),
        any=group("any"),
        channel=ChannelMix[raw["channel"]] if "channel" in raw else None,
        lifetime_value=None
        if lv is None
        else AmountRange(
            Decimal(lv["min"]) if "min" in lv else None,
            Decimal(lv["max"]) if "max" in lv else None,
        ),
        order_count=int_range("orderCount"),
        first_order=when("firstOrder"),
        last_order=when("lastOrder"),
        favourite_store=raw.get("favouriteStore"),
        bought_at_store=values("boughtAtStore"),
        bought_skus=values("boughtSkus"),
        email_consent=raw.get("emailConsent"),
        sms_consent=raw.get("smsConsent"),
        loyalty_tier=values("loyaltyTier"),
        points=int_range("points"),
        in_source=Source(raw["inSource"].lower()) if "inSource" in raw else None,
    )
