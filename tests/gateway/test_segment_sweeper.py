"""The segment sweeper task: a triggered pass moves a member out of a "last order within N
days" segment once the clock has passed (awaited on the pass, no sleeps), and announces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.records import Channel
from gateway.segment_sweeper import SegmentSweeper
from gateway.store import MemoryStore
from resolvers.events import EventBus
from resolvers.segments import saved
from resolvers.segments.filters import CustomerFilter, When
from resolvers.segments.saved import Change
from resolvers.store.segments import SegmentFacts
from resolvers.viewer import Role, Viewer

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Services:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.events = EventBus()


async def test_a_triggered_pass_moves_a_lapsed_member_out() -> None:
    services = Services()
    await services.store.segments.put_facts(
        SegmentFacts("cus_a", 1, frozenset({Channel.IN_STORE}), order_count=1, last_order_at=T0)
    )
    recent = CustomerFilter(last_order=When(within_days=7))
    segment = await saved.save_segment(
        services, Viewer(role=Role.INTERNAL), "This week", recent, now=T0
    )
    assert await services.store.saved_segments.member_ids(segment.id) == {"cus_a"}
    now = T0 + timedelta(days=3)
    sweeper = SegmentSweeper(services, interval=0, clock=lambda: now)
    sweeper.start()
    try:
        async with services.events.subscribe(saved.topic(segment.id)) as sub:
            finished = sweeper.next_pass()
            sweeper.trigger()
            assert await finished == 0
            now = T0 + timedelta(days=8)
            finished = sweeper.next_pass()
            sweeper.trigger()
            assert await finished == 1
            change = sub.get_nowait()
    finally:
        await sweeper.stop()
    assert (change.customer_id, change.change, change.at) == ("cus_a", Change.LEFT, now)
    assert await services.store.saved_segments.member_ids(segment.id) == set()
