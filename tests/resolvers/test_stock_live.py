"""The ``stockChanged`` stream (resolvers.stock.live) on every store backend: live events in
seq order, a resume from a cursor that loses and repeats nothing (also while writes race the
handover), gaps in the bus filled from the journal, and a resync marker for a subscriber that
falls behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.records import Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store.memory import MemoryInventory
from resolvers.context import Services
from resolvers.errors import BadUserInput
from resolvers.events import EventBus
from resolvers.model import StockChange, StockLevel
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.stock.levels import store_level
from resolvers.stock.live import (
    CursorExpiredError,
    LiveEvent,
    decode_cursor,
    encode_cursor,
    stock_changes,
)
from resolvers.store import Store, StoreError

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
SHOPIFY = Source("shopify")
WAIT = 10.0


@pytest.fixture
def services(store: Store) -> Services:
    return compose_services(store, ConnectorSet([]), EventBus(queue_size=64))


class Minute:
    """Strictly newer vendor timestamps, so every level is applied."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> datetime:
        self.n += 1
        return T0 + timedelta(minutes=self.n)


async def write(
    services: Services, clock: Minute, sku: str, available: int, location: str = "shopify:1"
) -> StockChange:
    change = await store_level(
        services,
        StockLevel(sku, location, {"available": available}, clock(), source=SHOPIFY),
        cause="webhook",
    )
    assert change is not None
    return change


class Reader:
    """Runs a stream in a task, collecting what it yields; ``take(n)`` awaits n more."""

    def __init__(self, stream: AsyncIterator[LiveEvent]) -> None:
        self.stream = stream
        self.got: list[LiveEvent] = []
        self._more = asyncio.Condition()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.stream:
            async with self._more:
                self.got.append(event)
                self._more.notify_all()

    async def take(self, n: int) -> list[LiveEvent]:
        async with asyncio.timeout(WAIT), self._more:
            await self._more.wait_for(lambda: len(self.got) >= n or self.task.done())
        if self.task.done() and len(self.got) < n:
            self.task.result()  # raises what ended it
        return self.got[:n]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def live_reader(services: Services, *args: object, **kwargs: object) -> Reader:
    live = asyncio.Event()
    reader = Reader(stock_changes(services, *args, live=live, **kwargs))  # type: ignore[arg-type]
    async with asyncio.timeout(WAIT):
        await live.wait()
    return reader


def seqs(events: list[LiveEvent]) -> list[int]:
    return [e.seq for e in events]


async def test_live_changes_arrive_in_order_filtered_by_sku_and_location(
    services: Services,
) -> None:
    clock = Minute()
    await write(services, clock, "A", 1)  # before the subscription: not sent
    reader = await live_reader(services, ["A", "B"], ["shopify:1"])
    a = await write(services, clock, "A", 2)
    await write(services, clock, "C", 3)  # another SKU
    await write(services, clock, "A", 4, "square:L1")  # another location
    b = await write(services, clock, "B", 5)
    got = await reader.take(2)
    await reader.stop()
    assert seqs(got) == [a.seq, b.seq]
    assert [e.change.level.quantities["available"] for e in got if e.change] == [2, 5]
    assert all(not e.resync and e.change and e.change.cause == "webhook" for e in got)
    assert got[0].change is not None
    assert got[0].change.level.version == 2
    assert len(reader.got) == 2


async def test_resuming_from_a_cursor_replays_what_was_missed_then_goes_live(
    services: Services,
) -> None:
    clock = Minute()
    first = await write(services, clock, "A", 1)
    missed = [await write(services, clock, sku, n) for n, sku in enumerate("ABABA", start=2)]
    expected = [c.seq for c in missed if c.level.sku == "A"]
    reader = await live_reader(services, ["A"], since=encode_cursor(first.seq))
    assert seqs(await reader.take(len(expected))) == expected
    later = await write(services, clock, "A", 9)
    got = await reader.take(len(expected) + 1)
    await reader.stop()
    assert seqs(got) == [*expected, later.seq]
    assert [e.change.level.quantities["available"] for e in got if e.change] == [2, 4, 6, 9]
    # The last cursor resumes after the last event: nothing is sent twice.
    again = await live_reader(services, ["A"], since=got[-1].cursor)
    final = await write(services, clock, "A", 10)
    assert seqs(await again.take(1)) == [final.seq]
    await again.stop()


async def test_writes_racing_the_handover_are_each_delivered_once_in_order(
    services: Services,
) -> None:
    """Replay pages and live events overlap while writers keep going; whatever the
    interleaving, the subscriber gets exactly the journal's entries for its SKU after the
    cursor, in seq order."""
    clock = Minute()
    start = await write(services, clock, "A", 0)
    for n in range(30):
        await write(services, clock, "A" if n % 2 else "B", n)

    async def writer(sku: str, count: int, location: str) -> None:
        # One writer per level: each one's timestamps grow, so every write is applied.
        for n in range(count):
            await write(services, clock, sku, 100 + n, location)

    reader = Reader(stock_changes(services, ["A"], since=encode_cursor(start.seq)))
    await asyncio.gather(
        writer("A", 20, "shopify:1"), writer("B", 20, "shopify:1"), writer("A", 20, "shopify:2")
    )
    journal = await services.store.inventory.changes_since(start.seq, skus=["A"], limit=1000)
    got = await reader.take(len(journal))
    await reader.stop()
    assert seqs(got) == [c.seq for c in journal]
    assert len(set(seqs(got))) == len(got) == 15 + 40


async def test_a_late_announcement_is_filled_from_the_journal_not_lost(
    services: Services,
) -> None:
    """Two writers announce in the other order than they committed: the later seq arrives
    first, the subscriber reads the earlier one from the journal, delivers both in seq
    order, and drops the late copy."""
    clock = Minute()
    reader = await live_reader(services, ["A"])
    inventory = services.store.inventory
    first = await inventory.apply_stock_level(
        StockLevel("A", "shopify:1", {"available": 1}, clock()), cause="webhook"
    )
    second = await inventory.apply_stock_level(
        StockLevel("A", "shopify:1", {"available": 2}, clock()), cause="webhook"
    )
    assert first is not None
    assert second is not None
    services.events.publish(STOCK_TOPIC, second)
    services.events.publish(STOCK_TOPIC, first)
    third = await write(services, clock, "A", 3)
    got = await reader.take(3)
    await reader.stop()
    assert seqs(got) == [first.seq, second.seq, third.seq]


async def test_a_subscriber_that_falls_behind_gets_a_resync_marker_then_live_events(
    services: Services,
) -> None:
    clock = Minute()
    live = asyncio.Event()
    stream = stock_changes(services, ["A"], queue_size=4, live=live)
    first = asyncio.create_task(anext(stream))  # subscribes, then waits on the bus
    async with asyncio.timeout(WAIT):
        await live.wait()
    one = await write(services, clock, "A", 1)
    assert (await asyncio.wait_for(first, WAIT)).seq == one.seq
    # Nobody reads the stream while ten changes are published: its queue of 4 overflows.
    burst = [await write(services, clock, "A", n) for n in range(2, 12)]
    marker = await asyncio.wait_for(anext(stream), WAIT)
    assert marker.resync
    assert marker.change is None
    assert decode_cursor(marker.cursor) == one.seq  # the last change it had covered
    # What was queued after the overflow, then live events, follow the marker.
    after = [await asyncio.wait_for(anext(stream), WAIT) for _ in range(2)]
    assert seqs(after) == [c.seq for c in burst[-2:]]
    live_one = await write(services, clock, "A", 99)
    assert (await asyncio.wait_for(anext(stream), WAIT)).seq == live_one.seq
    await stream.aclose()  # type: ignore[attr-defined]
    assert services.events.subscriber_count(STOCK_TOPIC) == 0


@pytest.mark.parametrize(
    ("skus", "locations", "since"),
    [
        ([], None, None),
        ([f"S{n}" for n in range(101)], None, None),
        (["A"], [], None),
        (["A"], None, "not-a-cursor"),
        (["A"], None, ""),
        (["A"], None, encode_cursor(1).replace("c3", "x3")),
    ],
)
async def test_bad_arguments_are_refused_before_subscribing(
    services: Services, skus: list[str], locations: list[str] | None, since: str | None
) -> None:
    with pytest.raises(BadUserInput):
        await anext(stock_changes(services, skus, locations, since))
    assert services.events.subscriber_count(STOCK_TOPIC) == 0


def test_cursors_round_trip_and_are_opaque() -> None:
    for seq in (0, 1, 42, 10**12):
        cursor = encode_cursor(seq)
        assert str(seq) not in cursor
        assert decode_cursor(cursor) == seq
    for bad in ("", "=", "c3RvY2s6", "c3RvY2s6LTE", "bm90OjE", "!!!!"):
        with pytest.raises(BadUserInput):
            decode_cursor(bad)


async def test_a_cursor_older_than_the_journal_keeps_is_expired() -> None:
    from gateway.store import MemoryStore

    store = MemoryStore()
    store.inventory = MemoryInventory(journal_size=3)
    services = compose_services(store, ConnectorSet([]))
    clock = Minute()
    first = await write(services, clock, "A", 1)
    for n in range(5):
        await write(services, clock, "A", n)
    with pytest.raises(CursorExpiredError) as caught:
        await anext(stock_changes(services, ["A"], since=encode_cursor(first.seq)))
    assert caught.value.code == "CURSOR_EXPIRED"


class FailingJournal(MemoryInventory):
    """The memory inventory, its journal unreadable while ``down``."""

    down = False

    async def changes_since(self, seq: int, **kwargs: Any) -> list[StockChange]:
        if self.down:
            raise StoreError("journal read failed")
        return await super().changes_since(seq, **kwargs)


async def test_a_journal_outage_fails_a_resume_and_costs_a_live_subscriber_a_resync() -> None:
    from gateway.store import MemoryStore

    store = MemoryStore()
    inventory = FailingJournal()
    store.inventory = inventory
    services = compose_services(store, ConnectorSet([]))
    clock = Minute()
    first = await write(services, clock, "A", 1)

    inventory.down = True
    with pytest.raises(StoreError):  # the error policy answers STORE_UNAVAILABLE
        await anext(stock_changes(services, ["A"], since=encode_cursor(first.seq)))

    inventory.down = False
    reader = await live_reader(services, ["A"])
    inventory.down = True
    late = await inventory.apply_stock_level(
        StockLevel("A", "shopify:1", {"available": 2}, clock()), cause="webhook"
    )  # committed, never announced: the next event shows a gap the journal cannot fill
    assert late is not None
    after = await write(services, clock, "A", 3)
    got = await reader.take(2)
    await reader.stop()
    assert got[0].resync
    assert decode_cursor(got[0].cursor) == first.seq
    assert got[1].seq == after.seq


async def test_a_burst_of_other_skus_takes_no_room_and_costs_no_journal_read(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warmup or reconciliation writes thousands of levels at once: a subscriber of one SKU
    must neither overflow into a resync for changes it did not ask for, nor re-read the
    journal for the seqs they took."""
    clock = Minute()
    live = asyncio.Event()
    stream = stock_changes(services, ["A"], queue_size=4, live=live)
    first = asyncio.create_task(anext(stream))
    async with asyncio.timeout(WAIT):
        await live.wait()
    inventory = services.store.inventory
    reads = 0
    real = inventory.changes_since

    async def counted(*args: Any, **kwargs: Any) -> list[StockChange]:
        nonlocal reads
        reads += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(inventory, "changes_since", counted)
    for n in range(40):  # ten times the queue
        await write(services, clock, "OTHER", n)
    wanted = await write(services, clock, "A", 7)
    event = await asyncio.wait_for(first, WAIT)
    assert not event.resync
    assert event.seq == wanted.seq
    assert reads == 0
    await stream.aclose()
