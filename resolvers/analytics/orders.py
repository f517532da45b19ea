"""The customer and order figures of ``analytics``, worked out from the order facts kept
beside each person's segment facts (:class:`~resolvers.store.segments.OrderFact`).

One definition for every backend: the memory store runs :func:`order_figures` over its
facts. Counted orders are those with ``since <= placed_at < until``; an in-store order counts
only at ``scope.location_ids`` when given, an online order always. Tombstones carry no orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from statistics import median
from typing import Protocol

from connectors.records import Channel
from resolvers.analytics.scope import AnalyticsScope
from resolvers.store import Store
from resolvers.store.segments import OrderFact, SegmentFacts

ON, IN = Channel.ONLINE, Channel.IN_STORE


@dataclass(frozen=True, slots=True)
class UnifiedCustomers:
    """Live customers with at least one counted order; the share of them known to two or
    more sources, and the share who bought in both channels in the period."""

    count: int
    multi_source_share: float | None
    both_channels_share: float | None


@dataclass(frozen=True, slots=True)
class Spread:
    mean: Decimal | None
    median: Decimal | None


@dataclass(frozen=True, slots=True)
class CustomerClass:
    """Per-customer revenue (LTV in the period), orders and AOV (revenue / orders)."""

    count: int
    revenue: Spread
    orders: Spread
    aov: Spread


@dataclass(frozen=True, slots=True)
class Uplift:
    """Omnichannel mean over the other class's mean; ``None`` when that mean is 0 or absent."""

    revenue: float | None
    orders: float | None
    aov: float | None


@dataclass(frozen=True, slots=True)
class CustomerClasses:
    omnichannel: CustomerClass
    online_only: CustomerClass
    in_store_only: CustomerClass
    vs_online_only: Uplift
    vs_in_store_only: Uplift


@dataclass(frozen=True, slots=True)
class ChannelMonth:
    """One UTC calendar month intersecting the period."""

    month: datetime
    buyers: int
    cross_channel_share: float | None
    store_to_online: int
    online_to_store: int


@dataclass(frozen=True, slots=True)
class SkuMix:
    sku: str
    online_units: int
    online_revenue: Decimal
    in_store_units: int
    in_store_revenue: Decimal


@dataclass(frozen=True, slots=True)
class OrderFigures:
    unified: UnifiedCustomers
    #: Units of the counted online orders (refunded units off): the online demand.
    online_units: int
    classes: CustomerClasses
    months: list[ChannelMonth]
    skus: list[SkuMix]


def counted(order: OrderFact, scope: AnalyticsScope) -> bool:
    return scope.since <= order.placed_at < scope.until and (
        order.channel is ON or scope.counts_location(order.location_id)
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _spread(values: list[Decimal]) -> Spread:
    if not values:
        return Spread(None, None)
    return Spread(sum(values, Decimal(0)) / len(values), Decimal(median(values)))


def _class(people: list[list[OrderFact]]) -> CustomerClass:
    revenue = [sum((o.total for o in orders), Decimal(0)) for orders in people]
    counts = [Decimal(len(orders)) for orders in people]
    return CustomerClass(
        count=len(people),
        revenue=_spread(revenue),
        orders=_spread(counts),
        aov=_spread([r / n for r, n in zip(revenue, counts, strict=True)]),
    )


def _ratio(a: Decimal | None, b: Decimal | None) -> float | None:
    return None if a is None or not b else float(a / b)


def _uplift(omni: CustomerClass, other: CustomerClass) -> Uplift:
    return Uplift(
        revenue=_ratio(omni.revenue.mean, other.revenue.mean),
        orders=_ratio(omni.orders.mean, other.orders.mean),
        aov=_ratio(omni.aov.mean, other.aov.mean),
    )


def months(scope: AnalyticsScope) -> list[datetime]:
    """The starts of the UTC calendar months intersecting ``[since, until)``."""
    out: list[datetime] = []
    start = datetime(scope.since.year, scope.since.month, 1, tzinfo=UTC)
    while start < scope.until:
        out.append(start)
        start = _next_month(start)
    return out


def _next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def order_figures(
    people: Iterable[SegmentFacts], scope: AnalyticsScope, *, first_skus: int = 20
) -> OrderFigures:
    """Every customer and order figure. ``cross_channel_share`` and the migrations look at
    a buyer's whole history up to the end of the month (every channel's first order, any
    location), the buyers of the month at counted orders only."""
    classes: dict[str, list[list[OrderFact]]] = defaultdict(list)
    multi = both = 0
    month_starts = months(scope)
    buyers = [0] * len(month_starts)
    crossed = [0] * len(month_starts)
    to_online = [0] * len(month_starts)
    to_store = [0] * len(month_starts)
    units: dict[tuple[str, Channel], int] = defaultdict(int)
    revenue: dict[tuple[str, Channel], Decimal] = defaultdict(Decimal)
    for facts in people:
        if not facts.live:
            continue
        kept = [o for o in facts.orders if counted(o, scope)]
        if not kept:
            continue
        channels = {o.channel for o in kept}
        multi += len(facts.sources) >= 2
        both += len(channels) == 2
        name = "omni" if len(channels) == 2 else ("online" if ON in channels else "in_store")
        classes[name].append(kept)
        firsts: dict[Channel, datetime] = {}
        for o in facts.orders:
            if o.channel not in firsts or o.placed_at < firsts[o.channel]:
                firsts[o.channel] = o.placed_at
        for i, start in enumerate(month_starts):
            end = _next_month(start)
            if any(start <= o.placed_at < end for o in kept):
                buyers[i] += 1
                crossed[i] += len(firsts) == 2 and max(firsts.values()) < end
            if len(firsts) == 2:
                later = max(firsts.values())
                if start <= later < end and scope.since <= later < scope.until:
                    if firsts[IN] < firsts[ON]:
                        to_online[i] += 1
                    else:
                        to_store[i] += 1
        for o in kept:
            for line in o.lines:
                units[line.sku, o.channel] += line.quantity
                revenue[line.sku, o.channel] += line.amount
    omni, online, in_store = (_class(classes[n]) for n in ("omni", "online", "in_store"))
    count = sum(len(v) for v in classes.values())
    skus = sorted(
        (
            SkuMix(sku, units[sku, ON], revenue[sku, ON], units[sku, IN], revenue[sku, IN])
            for sku in {sku for sku, _ in units}
        ),
        key=lambda m: (-abs(m.online_revenue - m.in_store_revenue), m.sku),
    )
    return OrderFigures(
        unified=UnifiedCustomers(count, _share(multi, count), _share(both, count)),
        online_units=sum(n for (_, channel), n in units.items() if channel is ON),
        classes=CustomerClasses(
            omni, online, in_store, _uplift(omni, online), _uplift(omni, in_store)
        ),
        months=[
            ChannelMonth(m, buyers[i], _share(crossed[i], buyers[i]), to_online[i], to_store[i])
            for i, m in enumerate(month_starts)
        ],
        skus=skus[:first_skus],
    )


#: Most SKUs the channel mix lists.
MAX_SKUS = 100


class OrderServices(Protocol):
    @property
    def store(self) -> Store: ...


async def figures(services: OrderServices, scope: AnalyticsScope) -> OrderFigures:
    """The figures of everyone who bought in the period, the SKU mix at its longest (the
    schema slices it): one store read serves every customer and order field."""
    buyers = await services.store.segments.buyers_between(scope.since, scope.until)
    return order_figures(buyers, scope, first_skus=MAX_SKUS)
