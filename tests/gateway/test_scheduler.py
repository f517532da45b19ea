"""The sync scheduler: passes on a timer after the start-up backfill, one at a time (in a
process, and across replicas through the store lease), failures retried at the next tick,
cancelled cleanly by ``stop``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from connectors.records import CustomerRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.scheduler import SyncScheduler
from gateway.store import MemoryStore
from resolvers.context import ResolverConfig, Services
from resolvers.customers.sync import SyncSummary
from resolvers.events import EventBus
from tests.resolvers.fakes import FakeCommerce

#: A tick short enough that a test awaiting passes on the timer is quick.
TICK = 0.01


def services_over(*connectors: FakeCommerce, store: MemoryStore | None = None) -> Services:
    return compose_services(
        store=store or MemoryStore(),
        connectors=ConnectorSet(connectors),  # type: ignore[arg-type]
        events=EventBus(),
        config=ResolverConfig(),
    )


class RecordingSync:
    """A stand-in for ``sync_customers`` that records how it was called, can be held at a
    gate, can fail, and counts how many calls run at once."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.failures = 0
        self.running = 0
        self.most_at_once = 0
        self.cancelled = 0

    async def __call__(self, services: Services, **kwargs: Any) -> SyncSummary:
        self.calls.append(kwargs)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.entered.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.failures:
                self.failures -= 1
                raise RuntimeError("store unreachable")
            return SyncSummary(records={"shopify": len(self.calls)})
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


@pytest.fixture
def services() -> Services:
    return services_over(FakeCommerce(Source("shopify")))


async def test_passes_run_on_the_timer_after_the_backfill(services: Services) -> None:
    sync = RecordingSync()
    scheduler = SyncScheduler(services, interval=TICK, sync=sync)
    scheduler.start(backfill=True)
    try:
        await scheduler.seeded.wait()
        # Nobody triggers: the timer alone runs these.
        await scheduler.next_pass()
        await scheduler.next_pass()
    finally:
        await scheduler.stop()
    assert sync.calls[0]["incremental"] is False
    assert all(call["incremental"] is True for call in sync.calls[1:])
    assert scheduler.passes >= 3


async def test_the_overlap_and_holder_reach_the_sync(services: Services) -> None:
    from datetime import timedelta

    sync = RecordingSync()
    scheduler = SyncScheduler(
        services, interval=3600, overlap=timedelta(seconds=7), holder="me", sync=sync
    )
    scheduler.start()
    try:
        scheduler.trigger()
        summary = await scheduler.next_pass()
    finally:
        await scheduler.stop()
    assert summary is not None
    assert sync.calls == [{"incremental": True, "overlap": timedelta(seconds=7), "holder": "me"}]


async def test_zero_interval_schedules_nothing(services: Services) -> None:
    sync = RecordingSync()
    scheduler = SyncScheduler(services, interval=0, sync=sync)
    scheduler.start(backfill=False)
    await scheduler.seeded.wait()
    scheduler.trigger()
    await scheduler.stop()
    assert sync.calls == []
    assert scheduler.passes == 0


async def test_a_failed_pass_is_logged_and_the_next_tick_tries_again(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    sync = RecordingSync()
    sync.failures = 1
    scheduler = SyncScheduler(services, interval=TICK, sync=sync)
    scheduler.start()
    try:
        with caplog.at_level(logging.ERROR, logger="omnigate.sync"):
            failed = await scheduler.next_pass()
        retried = await scheduler.next_pass()
    finally:
        await scheduler.stop()
    assert failed is None
    assert "customer sync (incremental) failed" in caplog.text
    assert retried is not None
    assert scheduler.running is False


async def test_triggers_during_a_pass_never_start_a_second_one_at_once(
    services: Services,
) -> None:
    sync = RecordingSync()
    sync.gate = asyncio.Event()
    scheduler = SyncScheduler(services, interval=3600, sync=sync)
    scheduler.start()
    try:
        scheduler.trigger()
        await sync.entered.wait()
        for _ in range(5):
            scheduler.trigger()
        following = asyncio.create_task(scheduler.next_pass())
        sync.gate.set()
        await following
    finally:
        await scheduler.stop()
    assert sync.most_at_once == 1
    # The five triggers asked for "a pass after this one": one more, not five.
    assert len(sync.calls) == 2


async def test_stop_cancels_a_pass_under_way(services: Services) -> None:
    sync = RecordingSync()
    sync.gate = asyncio.Event()
    scheduler = SyncScheduler(services, interval=3600, sync=sync)
    scheduler.start(backfill=True)
    await sync.entered.wait()
    await scheduler.stop()
    assert sync.cancelled == 1
    assert scheduler.running is False
    # The start-up backfill was cut short, but nobody waiting for it hangs.
    assert scheduler.seeded.is_set()


async def test_two_replicas_never_run_passes_at_once() -> None:
    """Two gateways on one store, both ticking: the second finds the lease taken, asks no
    vendor anything, and leaves it to the first."""
    store = MemoryStore()
    shopify = FakeCommerce(
        Source("shopify"),
        customers=[CustomerRecord(Source("shopify"), "S1", "Ann", "Lee", ("a@x.io",))],
    )
    shopify.gate = asyncio.Event()
    first = SyncScheduler(services_over(shopify, store=store), interval=3600, holder="replica-1")
    second = SyncScheduler(services_over(shopify, store=store), interval=3600, holder="replica-2")
    first.start()
    second.start()
    try:
        first.trigger()
        first_pass = asyncio.create_task(first.next_pass())
        await shopify.entered.wait()
        calls = sum(shopify.calls.values())
        second.trigger()
        skipped = await second.next_pass()
        assert skipped is not None
        assert skipped.busy
        assert sum(shopify.calls.values()) == calls
        shopify.gate.set()
        done = await first_pass
        assert done is not None
        assert done.records == {"shopify": 1}
        # Free again: the second replica's next pass runs.
        second.trigger()
        ran = await second.next_pass()
        assert ran is not None
        assert not ran.busy
    finally:
        await first.stop()
        await second.stop()
