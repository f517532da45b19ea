"""``analytics(from, to, locationIds)``: omnichannel figures over a period for internal
tools. Each figure is a field of :class:`Analytics` resolved on its own, so a client pays for
the figures it asks for; the scope (period, locations) is checked once, when the root field
runs (:mod:`resolvers.analytics.scope`). Every figure's definition is in its description."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers.analytics import orders as order_rules
from resolvers.analytics import stores
from resolvers.analytics.scope import AnalyticsScope, analytics_scope
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.store.inventory_figures import DEFAULT_TOP_SKUS, HoldFigures, SkuStock
from resolvers.viewer import Role
from schema.loyalty_figures import LoyaltyFigures
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]


@strawberry.type(description="Mean and median over customers.")
class Spread:
    mean: float | None
    median: float | None

    @classmethod
    def of(cls, spread: order_rules.Spread) -> Spread:
        return cls(
            mean=None if spread.mean is None else float(spread.mean),
            median=None if spread.median is None else float(spread.median),
        )


@strawberry.type(
    description="Customers of one class (by the channels of their orders in the period): "
    "per customer, revenue in the period (its lifetime value over the period, net of "
    "refunds, shop currency), orders, and average order value (revenue / orders)."
)
class CustomerClass:
    count: int
    revenue: Spread
    orders: Spread
    average_order_value: Spread

    @classmethod
    def of(cls, row: order_rules.CustomerClass) -> CustomerClass:
        return cls(
            count=row.count,
            revenue=Spread.of(row.revenue),
            orders=Spread.of(row.orders),
            average_order_value=Spread.of(row.aov),
        )


@strawberry.type(
    description="The omnichannel class's mean over another class's mean, per figure; null "
    "when that mean is 0 or there is no such customer."
)
class Uplift:
    revenue: float | None
    orders: float | None
    average_order_value: float | None

    @classmethod
    def of(cls, row: order_rules.Uplift) -> Uplift:
        return cls(revenue=row.revenue, orders=row.orders, average_order_value=row.aov)


@strawberry.type(
    description="Omnichannel (bought online and in store in the period), online-only and "
    "in-store-only customers compared."
)
class CustomerClasses:
    omnichannel: CustomerClass
    online_only: CustomerClass
    in_store_only: CustomerClass
    omnichannel_vs_online_only: Uplift
    omnichannel_vs_in_store_only: Uplift


@strawberry.type(
    description="Customers with at least one counted order in the period (an in-store order "
    "counts only at `locationIds` when given, an online order always)."
)
class UnifiedCustomers:
    count: int
    multi_source_share: float | None = strawberry.field(
        description="Unified customer rate: the share of them known to two or more sources "
        "(e.g. Shopify and Square); null without customers."
    )
    both_channels_share: float | None = strawberry.field(
        description="The share of them who bought both online and in store in the period."
    )


@strawberry.type(description="One UTC calendar month intersecting the period.")
class ChannelMonth:
    month: datetime = strawberry.field(description="The month's first instant (UTC).")
    buyers: int = strawberry.field(description="Customers with a counted order that month.")
    cross_channel_share: float | None = strawberry.field(
        description="Of those buyers, the share who had bought in both channels by the "
        "month's end (their whole history, any location)."
    )
    store_to_online: int = strawberry.field(
        description="Customers with a counted order in the period whose first order ever "
        "was in store and whose first online order fell in this month (and in the period)."
    )
    online_to_store: int = strawberry.field(
        description="The reverse: first order online, first in-store order this month. A "
        "customer whose first orders in both channels are simultaneous counts here."
    )


@strawberry.type(description="One SKU's units (refunded units off) and revenue per channel.")
class SkuChannelMix:
    sku: str
    online_units: int
    online_revenue: Decimal
    in_store_units: int
    in_store_revenue: Decimal


@strawberry.type(description="Store pickup against online demand over the period.")
class PickupShare:
    picked_up_units: int
    online_units: int
    share: float | None


@strawberry.type(
    description="Pickup holds at one location: the holds created in the period, by their "
    "status now."
)
class StorePickup:
    location_id: strawberry.ID
    holds: int = strawberry.field(description="Holds created in the period.")
    units: int = strawberry.field(description="Units those holds asked for.")
    completed: int = strawberry.field(description="Of them, picked up (completed or settled).")
    expired: int = strawberry.field(description="Of them, expired uncollected.")
    released: int = strawberry.field(description="Of them, cancelled.")
    active: int = strawberry.field(description="Of them, still waiting to be picked up.")
    units_picked_up: int = strawberry.field(description="Units of the completed holds.")
    conversion_rate: float | None = strawberry.field(
        description="completed / (completed + expired + released); null when none finished."
    )
    expiry_rate: float | None = strawberry.field(
        description="expired / (completed + expired + released); null when none finished."
    )

    @classmethod
    def of(cls, row: HoldFigures) -> StorePickup:
        return cls(
            location_id=strawberry.ID(row.location_id),
            holds=row.holds,
            units=row.units,
            completed=row.completed,
            expired=row.expired,
            released=row.released,
            active=row.active,
            units_picked_up=row.units_picked_up,
            conversion_rate=row.conversion_rate,
            expiry_rate=row.expiry_rate,
        )


@strawberry.type(
    description="One SKU at one location over the period, from the stock journal. Counted "
    "quantity: `onHand` when the level carries it, else `available`. Sold and received: its "
    "decreases and increases between consecutive journal entries caused by a webhook or an "
    "order (warm-up, reconciliation, safety-stock and hold entries are not sales). The "
    "figures see the journal as retained (MongoDB: its TTL, 24 h by default)."
)
class StoreSkuStock:
    location_id: strawberry.ID
    sku: str
    units_sold: int
    units_received: int
    available_at_start: int = strawberry.field(
        description="The counted quantity at the start: the level's last entry before "
        "`from`, else its first entry in the period."
    )
    sell_through: float | None = strawberry.field(
        description="unitsSold / (availableAtStart + unitsReceived); null when that is 0."
    )
    out_of_stock_hours: float = strawberry.field(
        description="Hours of the period during which the sellable quantity (available - "
        "safety stock - held) was 0 or less; time before the level's first known entry is "
        "not counted."
    )

    @classmethod
    def of(cls, row: SkuStock) -> StoreSkuStock:
        return cls(
            location_id=strawberry.ID(row.location_id),
            sku=row.sku,
            units_sold=row.units_sold,
            units_received=row.units_received,
            available_at_start=row.available_at_start,
            sell_through=row.sell_through,
            out_of_stock_hours=row.out_of_stock_hours,
        )


@strawberry.type(
    description="Omnichannel figures over `[from, to)`. Figures about stores (in-store "
    "orders, pickup holds, stock) count only `locationIds` when given; online orders belong "
    "to no store and always count. Computed by the store from the unified data: no vendor "
    "is asked."
)
class Analytics:
    scope: strawberry.Private[AnalyticsScope]
    #: The order figures and the hold figures, each read once for every field of this
    #: object that needs them (``pickup`` and ``pickupShare`` share one hold read).
    _orders: strawberry.Private[asyncio.Task[order_rules.OrderFigures] | None] = None
    _holds: strawberry.Private[asyncio.Task[list[HoldFigures]] | None] = None

    async def _order_figures(self, info: Info) -> order_rules.OrderFigures:
        if self._orders is None:
            reading = order_rules.figures(info.context.services, self.scope)
            self._orders = asyncio.ensure_future(reading)
        return await asyncio.shield(self._orders)

    async def _hold_figures(self, info: Info) -> list[HoldFigures]:
        if self._holds is None:
            self._holds = asyncio.ensure_future(stores.pickup(info.context.services, self.scope))
        return await asyncio.shield(self._holds)

    @strawberry.field(description="The unified customer rate, over the period's buyers.")
    async def customers(self, info: Info) -> UnifiedCustomers:
        u = (await self._order_figures(info)).unified
        return UnifiedCustomers(
            count=u.count,
            multi_source_share=u.multi_source_share,
            both_channels_share=u.both_channels_share,
        )

    @strawberry.field(
        description="Revenue, order frequency and average order value of omnichannel, "
        "online-only and in-store-only customers (mean, median, count) and the uplifts."
    )
    async def customer_classes(self, info: Info) -> CustomerClasses:
        c = (await self._order_figures(info)).classes
        return CustomerClasses(
            omnichannel=CustomerClass.of(c.omnichannel),
            online_only=CustomerClass.of(c.online_only),
            in_store_only=CustomerClass.of(c.in_store_only),
            omnichannel_vs_online_only=Uplift.of(c.vs_online_only),
            omnichannel_vs_in_store_only=Uplift.of(c.vs_in_store_only),
        )

    @strawberry.field(description="Cross-channel rate and channel migration per month.")
    async def channel_months(self, info: Info) -> list[ChannelMonth]:
        return [
            ChannelMonth(
                month=m.month,
                buyers=m.buyers,
                cross_channel_share=m.cross_channel_share,
                store_to_online=m.store_to_online,
                online_to_store=m.online_to_store,
            )
            for m in (await self._order_figures(info)).months
        ]

    @strawberry.field(
        description="Channel mix per SKU over the counted orders: units and revenue online "
        "and in store, sorted by the largest difference between online and in-store "
        "revenue, then SKU; the `first` (1 to 100). BAD_USER_INPUT: `first` out of range."
    )
    async def sku_channel_mix(self, info: Info, first: int = 20) -> list[SkuChannelMix]:
        if not 1 <= first <= order_rules.MAX_SKUS:
            raise BadUserInput(
                f"`first` must be from 1 to {order_rules.MAX_SKUS}.",
                extensions={"argument": "first", "max": order_rules.MAX_SKUS},
            )
        return [
            SkuChannelMix(
                sku=m.sku,
                online_units=m.online_units,
                online_revenue=m.online_revenue,
                in_store_units=m.in_store_units,
                in_store_revenue=m.in_store_revenue,
            )
            for m in (await self._order_figures(info)).skus[:first]
        ]

    @strawberry.field(name="from", description="Start of the period (inclusive, UTC).")
    def since(self) -> datetime:
        return self.scope.since

    @strawberry.field(name="to", description="End of the period (exclusive, UTC).")
    def until(self) -> datetime:
        return self.scope.until

    @strawberry.field(description="The locations counted, or null for every location.")
    def location_ids(self) -> list[strawberry.ID] | None:
        ids = self.scope.location_ids
        return None if ids is None else [strawberry.ID(i) for i in sorted(ids)]

    @strawberry.field(
        description="Points earned and redeemed per channel in the period, and the share "
        "earned in one channel and redeemed in another (as `loyaltyFigures`; the ledger "
        "names no store, so `locationIds` does not narrow it)."
    )
    async def loyalty(self, info: Info) -> LoyaltyFigures:
        scope = self.scope
        figures = await info.context.services.store.ledger.loyalty_figures(scope.since, scope.until)
        return LoyaltyFigures.of(figures)

    @strawberry.field(
        description="The share of online demand served by store pickup: units picked up "
        "from pickup holds created in the period (at the counted stores) over the units of "
        "the period's counted online orders; null without online units. Holds and orders "
        "are counted apart (a pickup order's units are in both), so this is a ratio of "
        "volumes, not of the same orders."
    )
    async def pickup_share(self, info: Info) -> PickupShare:
        rows = await self._hold_figures(info)
        picked = sum(r.units_picked_up for r in rows)
        online = (await self._order_figures(info)).online_units
        return PickupShare(
            picked_up_units=picked,
            online_units=online,
            share=picked / online if online else None,
        )

    @strawberry.field(
        description="Pickup adoption per store (only stores with a hold created in the "
        "period, by location id): holds, conversion and expiry rates."
    )
    async def pickup(self, info: Info) -> list[StorePickup]:
        rows = await self._hold_figures(info)
        return [StorePickup.of(r) for r in rows]

    @strawberry.field(
        description="Stock of the `first` SKUs (1 to 50) with the most units sold in the "
        "period, summed over the counted locations (ties by SKU), per location: sell-through "
        "and out-of-stock hours. Ordered by that rank, then location. Only levels with a "
        "journal entry in the period. BAD_USER_INPUT: `first` out of range."
    )
    async def stock(self, info: Info, first: int = DEFAULT_TOP_SKUS) -> list[StoreSkuStock]:
        rows = await stores.stock(info.context.services, self.scope, first)
        return [StoreSkuStock.of(r) for r in rows]


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="Omnichannel figures from `from` (inclusive; default 30 days before "
        "`to`) to `to` (exclusive; default now), at most 1098 days, optionally for some "
        "locations (at most 100). Internal tokens only. Errors: BAD_USER_INPUT (`from` not "
        "before `to`, too long a period, empty or too many `locationIds`), FORBIDDEN.",
        extensions=guarded(Role.INTERNAL),
    )
    def analytics(
        self,
        info: Info,
        since: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        until: Annotated[datetime | None, strawberry.argument(name="to")] = None,
        location_ids: list[strawberry.ID] | None = None,
    ) -> Analytics:
        scope = analytics_scope(
            info.context.viewer,
            since,
            until,
            [str(i) for i in location_ids] if location_ids is not None else None,
        )
        return Analytics(scope=scope)
