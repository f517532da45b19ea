"""A segment's filter as an operator writes it, checked and turned into the tree the store
answers (:mod:`resolvers.store.segments`).

Every condition set on one :class:`CustomerFilter` must hold (AND); ``all`` adds filters
that must all hold, ``any`` filters of which one must. Relative dates ("last order within 90
days") become absolute bounds against the ``now`` of the query, so a segment is current
when it is asked, not when its members' facts were written.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NoReturn

from connectors.records import Source
from resolvers.errors import BadUserInput
from resolvers.store.segments import (
    All,
    AnyOf,
    AnyPart,
    Bound,
    ChannelMix,
    Equals,
    Field,
    Filter,
    Range,
)

#: Most values one list condition (SKUs, stores, tiers) may name.
MAX_VALUES = 100
#: Most groups one filter may nest.
MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class IntRange:
    """Inclusive bounds; either may be left open."""

    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class AmountRange:
    """Inclusive bounds on an amount in the shop currency; either may be left open."""

    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True, slots=True)
class When:
    """A date condition: strictly ``before`` a time, at or ``after`` one, ``within_days``
    of now (at or after now minus that many days), ``not_within_days`` (before it: the
    lapsed). Those given must all hold; a person without the date matches none."""

    before: datetime | None = None
    after: datetime | None = None
    within_days: int | None = None
    not_within_days: int | None = None


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    all: tuple[CustomerFilter, ...] | None = None
    any: tuple[CustomerFilter, ...] | None = None
    channel: ChannelMix | None = None
    lifetime_value: AmountRange | None = None
    order_count: IntRange | None = None
    first_order: When | None = None
    last_order: When | None = None
    favourite_store: str | None = None
    bought_at_store: tuple[str, ...] | None = None
    bought_skus: tuple[str, ...] | None = None
    email_consent: bool | None = None
    sms_consent: bool | None = None
    loyalty_tier: tuple[str, ...] | None = None
    points: IntRange | None = None
    in_source: Source | None = None


def build(where: CustomerFilter, now: datetime) -> Filter:
    """The store's tree for ``where``; ``BAD_USER_INPUT`` naming the argument for an
    empty filter or group, a range whose min is above its max, negative days, a list
    condition that is empty or names more than :data:`MAX_VALUES` values."""
    return _build(where, now, "filter", 1)


def _build(where: CustomerFilter, now: datetime, path: str, depth: int) -> Filter:
    if depth > MAX_DEPTH:
        _bad(f"filters nest at most {MAX_DEPTH} groups deep", path)
    if all(getattr(where, f.name) is None for f in fields(where)):
        _bad("a filter needs at least one condition", path)
    parts: list[Filter] = []
    for name, group in (("all", where.all), ("any", where.any)):
        if group is None:
            continue
        if not group:
            _bad(f"`{name}` needs at least one filter", f"{path}.{name}")
        built = tuple(_build(f, now, f"{path}.{name}[{i}]", depth + 1) for i, f in enumerate(group))
        parts.append(All(built) if name == "all" else AnyPart(built))
    if where.channel is not None:
        if where.channel is ChannelMix.NONE:
            _bad("`channel` is ONLINE_ONLY, IN_STORE_ONLY or BOTH", f"{path}.channel")
        parts.append(AnyOf(Field.CHANNEL_MIX, frozenset({where.channel.value})))
    if where.lifetime_value is not None:
        r = where.lifetime_value
        parts.append(_range(Field.LIFETIME_VALUE, r.min, r.max, f"{path}.lifetimeValue"))
    if where.order_count is not None:
        r2 = where.order_count
        parts.append(_range(Field.ORDER_COUNT, r2.min, r2.max, f"{path}.orderCount"))
    if where.first_order is not None:
        parts.append(_when(Field.FIRST_ORDER_AT, where.first_order, now, f"{path}.firstOrder"))
    if where.last_order is not None:
        parts.append(_when(Field.LAST_ORDER_AT, where.last_order, now, f"{path}.lastOrder"))
    if where.favourite_store is not None:
        parts.append(AnyOf(Field.FAVOURITE_LOCATION_ID, frozenset({where.favourite_store})))
    for field_, values, name in (
        (Field.LOCATIONS, where.bought_at_store, "boughtAtStore"),
        (Field.SKUS, where.bought_skus, "boughtSkus"),
        (Field.LOYALTY_TIER, where.loyalty_tier, "loyaltyTier"),
    ):
        if values is not None:
            parts.append(AnyOf(field_, _values(values, f"{path}.{name}")))
    if where.email_consent is not None:
        parts.append(Equals(Field.EMAIL_CONSENT, where.email_consent))
    if where.sms_consent is not None:
        parts.append(Equals(Field.SMS_CONSENT, where.sms_consent))
    if where.points is not None:
        parts.append(
            _range(Field.LOYALTY_POINTS, where.points.min, where.points.max, f"{path}.points")
        )
    if where.in_source is not None:
        parts.append(AnyOf(Field.SOURCES, frozenset({str(where.in_source)})))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _range(field_: Field, low: Bound | None, high: Bound | None, path: str) -> Range:
    if low is None and high is None:
        _bad("a range needs `min`, `max` or both", path)
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        _bad("`min` is above `max`", path)
    return Range(field_, gte=low, lte=high)


def _when(field_: Field, when: When, now: datetime, path: str) -> Range:
    if all(getattr(when, f.name) is None for f in fields(when)):
        _bad("a date condition needs `before`, `after`, `withinDays` or `notWithinDays`", path)
    for name, days in (("withinDays", when.within_days), ("notWithinDays", when.not_within_days)):
        if days is not None and days < 0:
            _bad(f"`{name}` must not be negative", f"{path}.{name}")
    lows = [_utc(when.after)] if when.after is not None else []
    highs = [_utc(when.before)] if when.before is not None else []
    if when.within_days is not None:
        lows.append(_utc(now) - timedelta(days=when.within_days))
    if when.not_within_days is not None:
        highs.append(_utc(now) - timedelta(days=when.not_within_days))
    low, high = (max(lows) if lows else None), (min(highs) if highs else None)
    if low is not None and high is not None and low >= high:
        _bad("the date condition cannot hold (its earliest time is not before its latest)", path)
    return Range(field_, gte=low, lt=high)


def _utc(value: datetime) -> datetime:
    """A time without a zone is UTC, as the store takes it; to the millisecond, as the
    store keeps times, so both backends compare a bound with the same value."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _values(values: tuple[str, ...], path: str) -> frozenset[str]:
    if not values:
        _bad("the list needs at least one value", path)
    if len(values) > MAX_VALUES:
        _bad(f"at most {MAX_VALUES} values", path)
    return frozenset(values)


def _bad(message: str, path: str) -> NoReturn:
    raise BadUserInput(message, extensions={"argument": path})
