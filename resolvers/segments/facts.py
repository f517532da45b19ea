"""The segment facts of one person, derived after every profile build.

The figures the 360 shows (lifetime value, order counts per channel, first and last order,
favourite store, consent) are taken from the built profile itself, so a segment never
disagrees with the customer page; only what the profile does not keep whole is read from the
orders (every SKU and store, also of orders past the cached 200). Loyalty tier and points
are the account's after this build's accrual, which runs first.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.records import Channel, OrderRecord
from resolvers.customers.profile import UnifiedProfile
from resolvers.model import LoyaltyAccount, ProfileDoc
from resolvers.store import Store
from resolvers.store.segments import SegmentFacts

__all__ = ["SegmentFacts", "derive", "record"]


def derive(
    profile: UnifiedProfile,
    orders: Sequence[OrderRecord],
    account: LoyaltyAccount | None,
    *,
    version: int,
) -> SegmentFacts:
    """Facts for ``profile`` as built from ``orders``. Cancelled orders are left out, as the
    profile's stats leave them out; SKUs and stores come from every other order, whatever
    its currency (the amounts, like the 360's, count the shop currency only)."""
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
        loyalty_tier=account.tier if account is not None else None,
        loyalty_points=account.balance if account is not None else None,
    )


async def record(
    store: Store, stored: ProfileDoc, profile: UnifiedProfile, orders: Sequence[OrderRecord]
) -> bool:
    """After a build is stored (``stored`` carries its version): write its facts, unless a
    newer build's (or a retirement's) are there already. Returns whether they were."""
    account = await store.ledger.get_account(profile.id)
    facts = derive(profile, orders, account, version=stored.version)
    return await store.segments.put_facts(facts)
