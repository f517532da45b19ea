"""Segment facts: derived from hand-made records as the 360 sees them, written after every
profile build, and gone (a tombstone) when a profile is merged away or erased."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from connectors.records import (
    Channel,
    Consent,
    ConsentState,
    CustomerRecord,
    LineItem,
    MarketingProfile,
    Money,
    OrderChanged,
    OrderRecord,
    Source,
)
from resolvers.customers.profile import build_profile
from resolvers.customers.sync import sync_customers
from resolvers.model import LoyaltyAccount
from resolvers.segments.facts import derive
from resolvers.segments.filters import CustomerFilter, build
from resolvers.store.segments import ChannelMix, SegmentFacts, tombstone
from resolvers.webhook_events import WebhookDispatcher
from tests.resolvers.world import order as world_order
from tests.resolvers.world import profile_of

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SHOPIFY, SQUARE, KLAVIYO = Source("shopify"), Source("square"), Source("klaviyo")


def order(
    source: Source,
    oid: str,
    channel: Channel,
    day: int,
    total: str,
    skus: tuple[str, ...],
    *,
    loc: str | None = None,
    currency: str = "USD",
    cancelled: bool = False,
    refunded: str | None = None,
) -> OrderRecord:
    return OrderRecord(
        source=source,
        id=oid,
        channel=channel,
        created_at=T0.replace(day=day),
        total=Money.of(total, currency),
        refunded=Money.of(refunded, currency) if refunded else None,
        location_id=loc,
        cancelled=cancelled,
        line_items=tuple(LineItem(s, s, 1, Money.of(total, currency)) for s in skus),
    )


ORDERS = [
    order(SHOPIFY, "w1", Channel.ONLINE, 3, "100.00", ("TEE-1", "CAP-2"), loc="shopify:9"),
    order(SQUARE, "s1", Channel.IN_STORE, 5, "40.00", ("MUG-3",), loc="L1"),
    order(SQUARE, "s2", Channel.IN_STORE, 9, "15.50", ("TEE-1",), loc="L1", refunded="5.50"),
    order(SHOPIFY, "p1", Channel.IN_STORE, 7, "20.00", ("SOCK-4",), loc="L2"),
    # Cancelled: in no figure, no SKU, no store.
    order(SQUARE, "s3", Channel.IN_STORE, 11, "999.00", ("GOLD-9",), loc="L3", cancelled=True),
    # Another currency: not in the amounts or counts (as the 360), but the SKU was bought.
    order(SHOPIFY, "w2", Channel.ONLINE, 12, "30.00", ("SCARF-5",), currency="EUR"),
]


def test_facts_are_the_360s_figures_and_every_sku_and_store() -> None:
    profile = build_profile(
        "cus_1",
        customers=[
            CustomerRecord(SHOPIFY, "S1", "Jane", "Doe", ("jane@example.com",)),
            CustomerRecord(
                SQUARE,
                "Q1",
                "Jane",
                "Doe",
                sms_consent=Consent(ConsentState.SUBSCRIBED, True, T0),
            ),
        ],
        marketing=[
            MarketingProfile(
                KLAVIYO,
                "K1",
                email="jane@example.com",
                email_consent=Consent(ConsentState.UNSUBSCRIBED, False, T0),
            )
        ],
        orders=ORDERS,
        refreshed_at=T0,
    )
    account = LoyaltyAccount(id="cus_1", balance=240, pending=15, tier="silver")
    facts = derive(profile, ORDERS, account, version=7, tier="Silver")
    assert [o.order_key for o in facts.orders] == [
        "shopify:w1",
        "square:s1",
        "square:s2",
        "shopify:p1",
    ]
    assert replace(facts, orders=()) == SegmentFacts(
        profile_id="cus_1",
        version=7,
        channels=frozenset({Channel.ONLINE, Channel.IN_STORE}),
        # 100 online + 40 + (15.50 - 5.50) + 20 in store; the EUR order is not counted.
        lifetime_value=Decimal("170.00"),
        currency="USD",
        order_count=4,
        first_order_at=T0.replace(day=3),
        # Dates, as the 360's, count every order whatever its currency.
        last_order_at=T0.replace(day=12),
        favourite_location_id="L1",
        email_consent=False,
        sms_consent=True,
        sources=frozenset({SHOPIFY, SQUARE, KLAVIYO}),
        skus=frozenset({"TEE-1", "CAP-2", "MUG-3", "SOCK-4", "SCARF-5"}),
        locations=frozenset({"L1", "L2"}),
        loyalty_tier="Silver",
        loyalty_points=240,
    )
    assert facts.channel_mix is ChannelMix.BOTH
    # The same figures the 360 shows.
    assert facts.lifetime_value == profile.lifetime_value
    assert facts.order_count == profile.order_count
    assert facts.last_order_at == profile.last_order_at


def test_a_person_without_orders_or_account() -> None:
    profile = build_profile(
        "cus_2",
        customers=[],
        marketing=[
            MarketingProfile(
                KLAVIYO,
                "K2",
                email="sub@example.com",
                email_consent=Consent(ConsentState.SUBSCRIBED, True, T0),
            )
        ],
        orders=[],
        refreshed_at=T0,
    )
    facts = derive(profile, [], None, version=1, tier="Member")
    assert facts.channel_mix is ChannelMix.NONE
    assert (facts.order_count, facts.lifetime_value, facts.last_order_at) == (0, 0, None)
    assert (facts.email_consent, facts.sources) == (True, frozenset({KLAVIYO}))
    # No account yet: 0 points, as the 360's `loyalty.points` says.
    assert (facts.loyalty_tier, facts.loyalty_points) == ("Member", 0)


async def test_every_build_writes_facts_at_the_profile_version(services) -> None:  # type: ignore[no-untyped-def]
    await sync_customers(services)
    store = services.store
    jane = await profile_of(services, SHOPIFY, "S1")
    subscriber = await profile_of(services, KLAVIYO, "K9")
    docs = await store.profiles.get_profiles([jane, subscriber])
    facts = await store.segments.get_facts([jane, subscriber])
    assert facts[jane].version == docs[jane].version
    assert facts[jane].channel_mix is ChannelMix.BOTH
    assert facts[jane].lifetime_value == Decimal(140)
    assert facts[jane].sources == frozenset({SHOPIFY, SQUARE, KLAVIYO})
    # Loyalty ran first: the facts carry the account it left.
    account = await store.ledger.get_account(jane)
    assert account is not None
    assert facts[jane].loyalty_points == account.balance
    # The tier as the 360 works it out: 140 spent, the first tier.
    assert facts[jane].loyalty_tier == services.config.loyalty.tiers[0].name
    # No orders: facts all the same (a subscriber is in segments too).
    assert facts[subscriber].channel_mix is ChannelMix.NONE
    assert facts[subscriber].version == docs[subscriber].version

    before = facts[jane].version
    await services.customers.refresh(jane)
    assert (await store.segments.get_facts([jane]))[jane].version > before


async def test_a_merged_away_or_erased_profile_leaves_no_member(services) -> None:  # type: ignore[no-untyped-def]
    await sync_customers(services)
    store = services.store
    ann = await profile_of(services, SHOPIFY, "S2")
    ben = await profile_of(services, SHOPIFY, "S3")
    jane = await profile_of(services, SHOPIFY, "S1")
    everyone = build(CustomerFilter(email_consent=False), T0)

    async def ids() -> set[str]:
        return {f.profile_id for f in (await store.segments.find_facts(everyone, first=100)).facts}

    assert {ann, ben} <= await ids()
    ben_facts = (await store.segments.get_facts([ben]))[ben]
    await services.admin.merge([ann, ben], actor="test")
    stub = (await store.profiles.get_profiles([ben], include_retired=True))[ben]
    assert (await store.segments.get_facts([ben]))[ben] == tombstone(ben, stub.version)
    assert ben not in await ids()
    assert ann in await ids()
    # A build of Ben that read him before the merge finishes late: ignored.
    assert not await store.segments.put_facts(ben_facts)
    assert ben not in await ids()

    await services.admin.erase(jane)
    assert not (await store.segments.get_facts([jane]))[jane].live
    everyone_with_orders = build(CustomerFilter(channel=ChannelMix.BOTH), T0)
    page = await store.segments.find_facts(everyone_with_orders, first=100)
    assert jane not in {f.profile_id for f in page.facts}

    # Unmerged, Ben is rebuilt at a newer version and is a member again.
    await services.admin.unmerge(ann, actor="test")
    await services.customers.refresh(ben)
    assert (await store.segments.get_facts([ben]))[ben].live
    assert ben in await ids()


async def test_an_order_webhook_moves_a_person_between_segments(services, world) -> None:  # type: ignore[no-untyped-def]
    """Facts are as of the last build, and a webhook builds: one event, and the segment
    has moved."""
    await sync_customers(services)
    dispatcher = WebhookDispatcher(services)
    ann = await profile_of(services, SHOPIFY, "S2")
    in_store = build(CustomerFilter(channel=ChannelMix.IN_STORE_ONLY), T0)
    both = build(CustomerFilter(channel=ChannelMix.BOTH), T0)

    async def ids(where):  # type: ignore[no-untyped-def]
        return {
            f.profile_id for f in (await services.store.segments.find_facts(where, first=99)).facts
        }

    assert ann not in await ids(in_store)
    shopify = world["shopify"]
    shopify.orders.append(world_order(SHOPIFY, "pos1", "S2", Channel.IN_STORE, "25"))
    await dispatcher.handle(
        OrderChanged(SHOPIFY, "evt-pos1", None, order_id="pos1", customer_id="S2")
    )
    assert ann in await ids(in_store)
    shopify.orders.append(world_order(SHOPIFY, "web1", "S2", Channel.ONLINE, "30"))
    await dispatcher.handle(
        OrderChanged(SHOPIFY, "evt-web1", None, order_id="web1", customer_id="S2")
    )
    assert ann not in await ids(in_store)
    assert ann in await ids(both)
