"""The segment facts port: one small record per unified profile, the fields segments filter
on, kept beside the profile so ``customerSegment`` is answered from indexes, never by
rebuilding profiles or asking a vendor.

The filter tree the store answers is declared here too, in absolute terms (a "within 30
days" arrives as a bound on a date, computed by :mod:`resolvers.segments.filters` at query
time), and so is what a match means, once, by :func:`matches`: the memory store evaluates
it, MongoDB gets the same tree as a query document (``gateway/store/mongo/segments.py``),
and the contract suite holds both to the same answers.

A write carries the profile version it was derived from and only lands over an older one,
so a slow build finishing after a newer one cannot bring back what the newer one replaced.
A retired profile (merged away, erased, emptied) leaves a *tombstone*: the id and the
retired stub's version, no facts, matched by no filter; a build that read the profile before
it was retired carries an older version and is ignored.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from connectors.records import Channel, Source


class ChannelMix(enum.StrEnum):
    """The channels a person bought in, as one indexed value."""

    NONE = "none"
    ONLINE_ONLY = "online_only"
    IN_STORE_ONLY = "in_store_only"
    BOTH = "both"


def channel_mix(channels: frozenset[Channel]) -> ChannelMix:
    online, in_store = Channel.ONLINE in channels, Channel.IN_STORE in channels
    if online and in_store:
        return ChannelMix.BOTH
    if online:
        return ChannelMix.ONLINE_ONLY
    return ChannelMix.IN_STORE_ONLY if in_store else ChannelMix.NONE


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of an order as analytics count it: units kept (refunded units taken off) and
    what they came to at the unit price."""

    sku: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderFact:
    """One non-cancelled order in the shop currency, kept beside the segment facts so the
    customer and order figures of ``analytics`` are answered from the store. ``total`` is net
    of refunds, as the 360's lifetime value counts it."""

    order_key: str
    channel: Channel
    location_id: str | None
    placed_at: datetime
    total: Decimal
    currency: str
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """What segments know of one person, as of the profile build ``version`` came from.

    ``live`` is false on a tombstone (see the module docstring): then only ``profile_id``
    and ``version`` mean anything."""

    profile_id: str
    version: int
    channels: frozenset[Channel] = frozenset()
    lifetime_value: Decimal = Decimal(0)
    currency: str = "USD"
    order_count: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    favourite_location_id: str | None = None
    email_consent: bool = False
    sms_consent: bool = False
    sources: frozenset[Source] = frozenset()
    skus: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    loyalty_tier: str | None = None
    loyalty_points: int | None = None
    live: bool = True
    orders: tuple[OrderFact, ...] = ()

    @property
    def channel_mix(self) -> ChannelMix:
        return channel_mix(self.channels)


def tombstone(profile_id: str, version: int) -> SegmentFacts:
    return SegmentFacts(profile_id=profile_id, version=version, live=False)


class Field(enum.StrEnum):
    """The fields a filter leaf may name: :class:`SegmentFacts` attributes (``channel_mix``
    is its property), stored under the same names."""

    CHANNEL_MIX = "channel_mix"
    LIFETIME_VALUE = "lifetime_value"
    ORDER_COUNT = "order_count"
    FIRST_ORDER_AT = "first_order_at"
    LAST_ORDER_AT = "last_order_at"
    FAVOURITE_LOCATION_ID = "favourite_location_id"
    EMAIL_CONSENT = "email_consent"
    SMS_CONSENT = "sms_consent"
    SOURCES = "sources"
    SKUS = "skus"
    LOCATIONS = "locations"
    LOYALTY_TIER = "loyalty_tier"
    LOYALTY_POINTS = "loyalty_points"


#: Fields holding sets: ``AnyOf`` on them means "shares a value", as on MongoDB arrays.
SET_FIELDS = frozenset({Field.SOURCES, Field.SKUS, Field.LOCATIONS})

Bound = Decimal | int | datetime


@dataclass(frozen=True, slots=True)
class Range:
    """``field`` within the bounds given (``gte``/``lte`` inclusive, ``gt``/``lt`` not). A
    person without a value (no order yet, no loyalty account) is in no range."""

    field: Field
    gte: Bound | None = None
    gt: Bound | None = None
    lte: Bound | None = None
    lt: Bound | None = None


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``field`` is one of ``values``; for a set field, shares one of them."""

    field: Field
    values: frozenset[str]


@dataclass(frozen=True, slots=True)
class Equals:
    """``field`` equals ``value`` (a flag)."""

    field: Field
    value: bool


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyPart:
    parts: tuple[Filter, ...]


Filter = Range | AnyOf | Equals | All | AnyPart


def matches(facts: SegmentFacts, where: Filter) -> bool:
    """Whether ``facts`` are in the segment ``where`` describes; a tombstone never is."""
    return facts.live and _matches(facts, where)


def _matches(facts: SegmentFacts, where: Filter) -> bool:
    if isinstance(where, All):
        return all(_matches(facts, p) for p in where.parts)
    if isinstance(where, AnyPart):
        return any(_matches(facts, p) for p in where.parts)
    value = getattr(facts, where.field.value)
    if isinstance(where, Equals):
        return bool(value is where.value)
    if isinstance(where, AnyOf):
        if where.field in SET_FIELDS:
            return not where.values.isdisjoint(value)
        return value in where.values
    if value is None:
        return False
    return (
        (where.gte is None or value >= where.gte)
        and (where.gt is None or value > where.gt)
        and (where.lte is None or value <= where.lte)
        and (where.lt is None or value < where.lt)
    )


@dataclass(frozen=True, slots=True)
class FactsPage:
    """Members in profile-id order after the cursor, and how many the segment has in all."""

    facts: list[SegmentFacts]
    has_next: bool
    total: int


class SegmentFactStore(Protocol):
    async def put_facts(self, facts: SegmentFacts) -> bool:
        """Store the facts (or a tombstone) unless the stored ones come from the same or a
        newer profile version, atomically. Returns whether they were written."""
        ...

    async def get_facts(self, profile_ids: Sequence[str]) -> dict[str, SegmentFacts]:
        """The stored facts by profile id, tombstones included."""
        ...

    async def buyers_between(self, since: datetime, until: datetime) -> list[SegmentFacts]:
        """The live facts of everyone with an order placed in ``[since, until)``, with their
        whole order history (the figures of ``analytics`` need each buyer's first order per
        channel, whenever it was)."""
        ...

    async def find_facts(self, where: Filter, *, first: int, after: str | None = None) -> FactsPage:
        """The live facts matching ``where`` with a profile id greater than ``after``, in
        profile-id order, at most ``first``; ``total`` counts every match, whatever the
        cursor."""
        ...
