"""The segment facts of one person, derived after every profile build.

Every figure is the 360's own, computed the way the customer page computes it: lifetime
value, order counts per channel, first and last order, favourite store and consent from the
built profile; the loyalty tier from the member's qualifying spend (``loyalty.tier``) and the
points from the account (``loyalty.points``, 0 without one), read after this build's
accrual, which runs first. Only what the profile does not keep whole is read from the orders:
every SKU and store, also of orders past the 200 the profile caches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from connectors.records import Channel, OrderRecord
from resolvers.customers.profile import UnifiedProfile
from resolvers.events import EventBus
from resolvers.loyalty.earning import ProgramConfig, standing
from resolvers.model import LoyaltyAccount, ProfileDoc
from resolvers.segments import saved
from resolvers.store import Store
from resolvers.store.segments import OrderFact, OrderLine, SegmentFacts

__all__ = ["FactsServices", "SegmentFacts", "derive", "record"]


class FactsServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def config(self) -> ProgramConfig: ...

    @property
    def events(self) -> EventBus: ...


def derive(
    profile: UnifiedProfile,
    orders: Sequence[OrderRecord],
    account: LoyaltyAccount | None,
    *,
    version: int,
    tier: str | None,
) -> SegmentFacts:
    """Facts for ``profile`` as built from ``orders``. Cancelled orders are left out, as the
    profile's stats leave them out; SKUs and stores come from every other order, whatever
    its currency (the amounts and counts, like the 360's, count the shop currency only).
    ``tier`` is the member's tier as the 360 works it out."""
    kept = [o for o in orders if not o.cancelled]
    channels = frozenset(
        c
        for c, stats in ((Channel.ONLINE, profile.online), (Channel.IN_STORE, profile.in_store))
        if stats.order_count > 0
    )
    return SegmentFacts(
        profile_id=profile.id,
        version=version,
        channels=channels,
        lifetime_value=profile.lifetime_value,
        currency=profile.currency,
        order_count=profile.order_count,
        first_order_at=profile.first_order_at,
        last_order_at=profile.last_order_at,
        favourite_location_id=profile.favourite_location_id,
        email_consent=profile.email_consent.can_receive,
        sms_consent=profile.sms_consent.can_receive,
        sources=frozenset(source for source, _ in profile.identities),
        skus=frozenset(li.sku for o in kept for li in o.line_items if li.sku),
        locations=frozenset(
            o.location_id for o in kept if o.channel is Channel.IN_STORE and o.location_id
        ),
        loyalty_tier=tier,
        loyalty_points=account.balance if account is not None else 0,
        orders=tuple(_order_fact(o) for o in kept if o.total.currency == profile.currency),
    )


def _order_fact(order: OrderRecord) -> OrderFact:
    return OrderFact(
        order_key=f"{order.source}:{order.id}",
        channel=order.channel,
        location_id=order.location_id,
        placed_at=order.created_at,
        total=order.net.amount,
        currency=order.total.currency,
        lines=tuple(
            OrderLine(
                sku=li.sku,
                quantity=li.quantity - li.refunded_quantity,
                amount=li.unit_price.amount * (li.quantity - li.refunded_quantity),
            )
            for li in order.line_items
            if li.sku
        ),
    )


def _now() -> datetime:
    return datetime.now(UTC)


async def record(
    services: FactsServices,
    stored: ProfileDoc,
    profile: UnifiedProfile,
    orders: Sequence[OrderRecord],
    *,
    clock: Callable[[], datetime] = _now,
) -> bool:
    """After a build is stored (``stored`` carries its version): write its facts, unless a
    newer build's (or a retirement's) are there already; then re-decide the person's saved
    segments from whatever facts are stored (:func:`resolvers.segments.saved.reevaluate`).
    Returns whether these facts were written."""
    account = await services.store.ledger.get_account(profile.id)
    tier = standing(services.config.loyalty, profile.orders, clock()).tier.name
    facts = derive(profile, orders, account, version=stored.version, tier=tier)
    written = await services.store.segments.put_facts(facts)
    await saved.reevaluate(services, profile.id, clock=clock)
    return written
