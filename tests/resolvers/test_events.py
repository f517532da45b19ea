"""The event bus: bounded per-subscriber queues, a resync marker instead of a silent gap, a
publisher that never waits, and topics fed from outside the process."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.events import RESYNC, EventBus, Subscription


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus(queue_size=10)
    async with bus.subscribe("t") as a, bus.subscribe("t") as b, bus.subscribe("other") as c:
        assert bus.publish("t", 1) == 2
        assert bus.publish("t", 2) == 2
        assert [await a.get(), await a.get()] == [1, 2]
        assert [b.get_nowait(), b.get_nowait()] == [1, 2]
        assert c.empty()
    assert bus.subscriber_count("t") == 0
    assert bus.publish("t", 3) == 0


async def test_an_overflowing_subscriber_reads_a_resync_marker_then_live_events() -> None:
    bus = EventBus(queue_size=3)
    async with bus.subscribe("t") as slow, bus.subscribe("t", queue_size=100) as fast:
        for n in range(5):  # 0, 1, 2 fill the queue; 3 overflows it; 4 follows
            bus.publish("t", n)
        assert slow.get_nowait() is RESYNC
        assert [slow.get_nowait(), slow.get_nowait()] == [3, 4]
        assert slow.empty()
        assert (slow.overflows, slow.dropped) == (1, 3)
        bus.publish("t", 5)  # live events continue after the marker
        assert await slow.get() == 5
        assert [fast.get_nowait() for _ in range(6)] == [0, 1, 2, 3, 4, 5]
        assert fast.overflows == 0


async def test_publish_never_waits_for_a_subscriber_that_never_reads() -> None:
    bus = EventBus(queue_size=2)
    async with bus.subscribe("t") as stuck, bus.subscribe("t", queue_size=2000) as reader:
        received: list[int] = []

        async def read() -> None:
            async for event in reader:
                received.append(event)
                if event == 999:
                    return

        task = asyncio.create_task(read())
        for n in range(1000):
            bus.publish("t", n)  # synchronous: no await can block it
        await asyncio.wait_for(task, 5)
        assert received == list(range(1000))
        assert stuck.pending() <= 3  # the marker and at most its queue's worth
        assert stuck.get_nowait() is RESYNC


async def test_a_waiting_reader_wakes_on_publish() -> None:
    bus = EventBus()
    async with bus.subscribe("t") as sub:
        waiting = asyncio.create_task(sub.get())
        await asyncio.sleep(0)  # let it block on the empty queue
        assert not waiting.done()
        bus.publish("t", "x")
        assert await asyncio.wait_for(waiting, 5) == "x"


async def test_a_fed_topic_is_delivered_by_its_feed_only() -> None:
    bus = EventBus()
    bus.feed("stock")
    async with bus.subscribe("stock") as sub, bus.subscribe("webhook") as other:
        assert bus.publish("stock", "local") == 0  # the feed will bring it back
        assert bus.publish("webhook", "w") == 1  # other topics are untouched
        assert bus.deliver("stock", "fed") == 1
        assert sub.get_nowait() == "fed"
        assert sub.empty()
        assert other.get_nowait() == "w"
        bus.unfeed("stock")
        bus.publish("stock", "local again")
        assert sub.get_nowait() == "local again"


async def test_a_topic_wide_resync_drops_queues_and_marks_every_subscriber() -> None:
    bus = EventBus()
    async with bus.subscribe("t") as a, bus.subscribe("t") as b:
        bus.publish("t", 1)
        bus.resync("t")
        bus.publish("t", 2)
        for sub in (a, b):
            assert sub.get_nowait() is RESYNC
            assert sub.get_nowait() == 2
            with pytest.raises(asyncio.QueueEmpty):
                sub.get_nowait()


def test_a_queue_needs_room() -> None:
    with pytest.raises(ValueError, match="room for one event"):
        Subscription(0)


async def test_waiting_for_subscribers_ends_when_they_have_joined() -> None:
    bus = EventBus()
    waiting = asyncio.create_task(bus.subscribers("t", 2))
    async with bus.subscribe("t"):
        await asyncio.sleep(0)
        assert not waiting.done()
        async with bus.subscribe("t"):
            await asyncio.wait_for(waiting, 5)


async def test_a_subscription_still_reads_like_the_queue_it_used_to_expose() -> None:
    bus = EventBus(queue_size=2)
    async with bus.subscribe("t") as sub:
        for n in range(3):
            bus.publish("t", n)
        assert sub.queue.qsize() == 2  # the marker, and the event that overflowed
        assert [sub.queue.get_nowait() for _ in range(sub.queue.qsize())] == [RESYNC, 2]
        assert sub.queue.empty()


def test_a_filtered_subscription_knows_a_gap_from_what_it_passed_over() -> None:
    from resolvers.events import Subscription

    sub = Subscription(2, accepts=lambda n: n % 10 == 0, position=lambda n: n)
    sub.watch_from(0)
    for n in range(1, 10):
        sub.offer(n)  # passed over, positions noted
    sub.offer(10)
    assert sub.qsize() == 1
    assert sub.seen_all_between(0, 10)
    sub.offer(12)  # 11 was never offered: a gap
    assert sub.get_nowait() == 10
    sub.watch_from(10)
    assert not sub.seen_all_between(10, 12)
    sub.offer(11)
    assert sub.seen_all_between(10, 12)
    # An accepted event still queued is not handled until its reader delivered it.
    for n in range(13, 31):
        sub.offer(n)
    assert not sub.seen_all_between(12, 31)  # 20 and 30 wait in the queue
    sub.watch_from(30)
    assert sub.seen_all_between(12, 31)
