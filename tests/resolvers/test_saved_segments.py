"""Saved segments: membership recorded at save, re-decided after every facts write and by
the sweep, each change announced once on the segment's topic."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.records import Channel, OrderChanged, Source
from gateway.store.memory import MemoryStore
from resolvers.context import Services
from resolvers.customers.sync import sync_customers
from resolvers.errors import BadUserInput, Forbidden, OmnigateError
from resolvers.events import EventBus, Subscription
from resolvers.segments import codec, saved
from resolvers.segments.filters import AmountRange, CustomerFilter, IntRange, When
from resolvers.segments.saved import Change, SegmentChange
from resolvers.store.segments import ChannelMix, SegmentFacts, tombstone
from resolvers.viewer import Role, Viewer
from resolvers.webhook_events import WebhookDispatcher
from tests.resolvers.world import order as world_order
from tests.resolvers.world import profile_of

SHOPIFY = Source("shopify")
INTERNAL = Viewer(role=Role.INTERNAL)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
IN_STORE_ONLY = CustomerFilter(channel=ChannelMix.IN_STORE_ONLY)


def drain(sub: Subscription) -> list[SegmentChange]:
    got = []
    while not sub.empty():
        got.append(sub.get_nowait())
    return got


async def test_an_order_webhook_moves_a_member_out_and_a_subscriber_hears_left(
    services: Services, world
) -> None:  # type: ignore[no-untyped-def]
    await sync_customers(services)
    dispatcher = WebhookDispatcher(services)
    ann = await profile_of(services, SHOPIFY, "S2")
    shopify = world["shopify"]
    shopify.orders.append(world_order(SHOPIFY, "pos1", "S2", Channel.IN_STORE, "25"))
    await dispatcher.handle(
        OrderChanged(SHOPIFY, "evt-pos1", None, order_id="pos1", customer_id="S2")
    )
    segment = await saved.save_segment(services, INTERNAL, "In-store only", IN_STORE_ONLY)
    members = await services.store.saved_segments.member_ids(segment.id)
    assert ann in members

    async with services.events.subscribe(saved.topic(segment.id)) as sub:
        shopify.orders.append(world_order(SHOPIFY, "web1", "S2", Channel.ONLINE, "30"))
        await dispatcher.handle(
            OrderChanged(SHOPIFY, "evt-web1", None, order_id="web1", customer_id="S2")
        )
        changes = drain(sub)
    assert [(c.segment_id, c.customer_id, c.change) for c in changes] == [
        (segment.id, ann, Change.LEFT)
    ]
    assert ann not in await services.store.saved_segments.member_ids(segment.id)
    # Built again with the same orders: nothing changes, nothing is announced.
    async with services.events.subscribe(saved.topic(segment.id)) as sub:
        await services.customers.refresh(ann)
        assert drain(sub) == []


async def test_the_subscription_stream_yields_the_transition(services: Services) -> None:
    store = services.store
    segment = await saved.save_segment(services, INTERNAL, "Big spenders", _big())
    stream = saved.segment_changes(services, INTERNAL, segment.id)
    next_change = asyncio.ensure_future(anext(stream))
    await services.events.subscribers(saved.topic(segment.id), 1)
    await store.segments.put_facts(_facts("cus_x", 1, spent="500"))
    await saved.reevaluate(services, "cus_x", clock=lambda: NOW)
    change = await next_change
    assert (change.customer_id, change.change, change.at) == ("cus_x", Change.ENTERED, NOW)
    await stream.aclose()  # type: ignore[attr-defined]


@dataclass
class Bare:
    """Just what the saved-segment functions use."""

    store: MemoryStore = field(default_factory=MemoryStore)
    events: EventBus = field(default_factory=EventBus)


def _facts(
    pid: str, version: int, *, spent: str = "0", last: datetime | None = None
) -> SegmentFacts:
    return SegmentFacts(
        profile_id=pid,
        version=version,
        channels=frozenset({Channel.IN_STORE}),
        lifetime_value=Decimal(spent),
        order_count=1,
        last_order_at=last,
    )


def _big() -> CustomerFilter:
    return CustomerFilter(lifetime_value=AmountRange(min=Decimal(100)))


async def test_two_racing_reevaluations_announce_one_entry() -> None:
    services = Bare()
    segment = await saved.save_segment(services, INTERNAL, "Big", _big())
    await services.store.segments.put_facts(_facts("cus_a", 1, spent="250"))
    async with services.events.subscribe(saved.topic(segment.id)) as sub:
        moved = await asyncio.gather(
            *(saved.reevaluate(services, "cus_a", clock=lambda: NOW) for _ in range(2))
        )
        changes = drain(sub)
    assert sorted(moved) == [0, 1]
    assert [(c.customer_id, c.change) for c in changes] == [("cus_a", Change.ENTERED)]


async def test_save_fills_the_members_silently_and_checks_its_input() -> None:
    services = Bare()
    await services.store.segments.put_facts(_facts("cus_a", 1, spent="250"))
    await services.store.segments.put_facts(_facts("cus_b", 1, spent="5"))
    segment = await saved.save_segment(services, INTERNAL, "  Big  ", _big())
    assert segment.name == "Big"
    assert await services.store.saved_segments.member_ids(segment.id) == {"cus_a"}
    assert codec.load(segment.filter) == _big()
    assert await saved.member_count(services, segment) == 1
    with pytest.raises(OmnigateError) as taken:
        await saved.save_segment(services, INTERNAL, "Big", IN_STORE_ONLY)
    assert (taken.value.code, taken.value.extensions) == ("CONFLICT", {"argument": "name"})
    assert [s.id for s in await services.store.saved_segments.list_segments()] == [segment.id]
    with pytest.raises(BadUserInput):
        await saved.save_segment(services, INTERNAL, "Empty", CustomerFilter())
    with pytest.raises(BadUserInput):
        await saved.save_segment(services, INTERNAL, " ", IN_STORE_ONLY)
    for role in (Role.STOREFRONT, Role.STAFF):
        with pytest.raises(Forbidden):
            await saved.save_segment(services, Viewer(role=role), "x", IN_STORE_ONLY)


async def test_the_sweep_moves_a_member_out_when_the_clock_passes() -> None:
    services = Bare()
    recent = CustomerFilter(last_order=When(within_days=30))
    await services.store.segments.put_facts(_facts("cus_a", 1, last=NOW - timedelta(days=20)))
    await services.store.segments.put_facts(_facts("cus_b", 1, last=NOW - timedelta(days=5)))
    segment = await saved.save_segment(services, INTERNAL, "Recent", recent, now=NOW)
    assert await services.store.saved_segments.member_ids(segment.id) == {"cus_a", "cus_b"}
    async with services.events.subscribe(saved.topic(segment.id)) as sub:
        assert await saved.sweep(services, clock=lambda: NOW) == 0
        later = NOW + timedelta(days=11)
        assert await saved.sweep(services, clock=lambda: later) == 1
        # A second sweep (another replica's, say) finds nothing left to do.
        assert await saved.sweep(services, clock=lambda: later) == 0
        changes = drain(sub)
    assert [(c.customer_id, c.change, c.at) for c in changes] == [("cus_a", Change.LEFT, later)]
    assert await services.store.saved_segments.member_ids(segment.id) == {"cus_b"}


async def test_a_retired_profile_leaves_at_the_sweep_and_on_its_next_write() -> None:
    services = Bare()
    segment = await saved.save_segment(services, INTERNAL, "Any order", _orders())
    await services.store.segments.put_facts(_facts("cus_a", 1))
    await services.store.segments.put_facts(_facts("cus_b", 1))
    await saved.sweep(services, clock=lambda: NOW)
    assert await services.store.saved_segments.member_ids(segment.id) == {"cus_a", "cus_b"}
    await services.store.segments.put_facts(tombstone("cus_a", 2))
    async with services.events.subscribe(saved.topic(segment.id)) as sub:
        await saved.sweep(services, clock=lambda: NOW)
        assert [(c.customer_id, c.change) for c in drain(sub)] == [("cus_a", Change.LEFT)]
    await services.store.segments.put_facts(tombstone("cus_b", 2))
    assert await saved.reevaluate(services, "cus_b", clock=lambda: NOW) == 1
    assert await services.store.saved_segments.member_ids(segment.id) == set()


def _orders() -> CustomerFilter:
    return CustomerFilter(order_count=IntRange(min=1))


def test_the_saved_form_round_trips_every_condition() -> None:
    where = CustomerFilter(
        any=(
            CustomerFilter(channel=ChannelMix.BOTH),
            CustomerFilter(
                all=(CustomerFilter(email_consent=True), CustomerFilter(sms_consent=False))
            ),
        ),
        lifetime_value=AmountRange(min=Decimal("10.50"), max=Decimal(99)),
        order_count=IntRange(max=0),
        first_order=When(before=datetime(2026, 1, 1, tzinfo=UTC), within_days=400),
        last_order=When(after=datetime(2025, 1, 1, tzinfo=UTC), not_within_days=90),
        favourite_store="L1",
        bought_at_store=("L1", "L2"),
        bought_skus=("TEE-1",),
        loyalty_tier=("Gold",),
        points=IntRange(min=100),
        in_source=SHOPIFY,
    )
    dumped = json.loads(json.dumps(codec.dump(where)))
    assert codec.load(dumped) == where
    # The GraphQL input's own spelling, so it can be sent back as a CustomerFilter.
    assert dumped["lastOrder"] == {"after": "2025-01-01T00:00:00+00:00", "notWithinDays": 90}
    assert dumped["inSource"] == "SHOPIFY"
    assert dumped["any"][0] == {"channel": "BOTH"}


async def test_an_erased_or_merged_away_member_leaves_at_once(services: Services) -> None:
    await sync_customers(services)
    jane = await profile_of(services, SHOPIFY, "S1")
    ann = await profile_of(services, SHOPIFY, "S2")
    ben = await profile_of(services, SHOPIFY, "S3")
    segment = await saved.save_segment(
        services, INTERNAL, "Everyone", CustomerFilter(order_count=IntRange(min=0))
    )
    assert {jane, ann, ben} <= await services.store.saved_segments.member_ids(segment.id)
    async with services.events.subscribe(saved.topic(segment.id)) as sub:
        await services.admin.erase(jane)
        await services.admin.merge([ann, ben], actor="test")
        left = {c.customer_id for c in drain(sub) if c.change is Change.LEFT}
    assert left == {jane, ben}
    members = await services.store.saved_segments.member_ids(segment.id)
    assert ann in members
    assert not {jane, ben} & members


async def test_fill_and_sweep_read_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saved, "SCAN_PAGE", 2)
    services = Bare()
    for i in range(7):
        await services.store.segments.put_facts(_facts(f"cus_{i}", 1, spent=str(100 + i)))
    segment = await saved.save_segment(services, INTERNAL, "Big", _big())
    assert len(await services.store.saved_segments.member_ids(segment.id)) == 7
    for i in range(7):
        await services.store.segments.put_facts(_facts(f"cus_{i}", 2, spent="1"))
    assert await saved.sweep(services, clock=lambda: NOW) == 7
    assert await services.store.saved_segments.member_ids(segment.id) == set()
