"""The hold sweeper task: a triggered pass expires due holds and settles timed-out ones
(awaited on the pass, no sleeps); a failing pass is logged and the next one runs; the app's
lifespan starts and stops it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.app import create_app
from gateway.hold_sweeper import HoldSweeper
from gateway.store import MemoryStore
from resolvers.model import HoldStatus
from resolvers.stock import holds
from resolvers.stock.holds import HoldRequest
from tests.resolvers.holds_world import INTERNAL, SHOPIFY_STORE, SKU, T0, hold_services, seed
from tests.support import make_settings


async def test_a_triggered_pass_expires_and_settles() -> None:
    store = MemoryStore()
    services = hold_services(store)
    await seed(services, 10)
    expiring = await holds.create(services, INTERNAL, HoldRequest(SKU, SHOPIFY_STORE, 3), now=T0)
    picked = await holds.create(services, INTERNAL, HoldRequest(SKU, SHOPIFY_STORE, 2), now=T0)
    await holds.complete(services, INTERNAL, picked.id, now=T0)
    now = T0 + timedelta(minutes=10)
    sweeper = HoldSweeper(
        services, interval=0, settle_timeout=timedelta(minutes=60), clock=lambda: now
    )
    sweeper.start()
    try:
        finished = sweeper.next_pass()
        sweeper.trigger()
        assert await finished is not None
        assert (await store.inventory.get_hold(expiring.id)).status is HoldStatus.ACTIVE
        now = T0 + timedelta(minutes=45)  # past the 30-minute ttl
        finished = sweeper.next_pass()
        sweeper.trigger()
        summary = await finished
        assert summary is not None
        assert (summary.expired, summary.settled) == (1, 0)
        now = T0 + timedelta(minutes=61)  # past the settle timeout
        finished = sweeper.next_pass()
        sweeper.trigger()
        summary = await finished
        assert summary is not None
        assert (summary.expired, summary.settled) == (0, 1)
    finally:
        await sweeper.stop()
    assert not sweeper.running
    [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
    assert level.held == 0
    assert level.sellable_for_pickup == 10


async def test_a_failing_pass_is_logged_and_the_next_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    services = hold_services(store)
    calls = 0
    real = store.inventory.expired_holds

    async def flaky(now, limit=100):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("store hiccup")
        return await real(now, limit)

    store.inventory.expired_holds = flaky  # type: ignore[method-assign]
    sweeper = HoldSweeper(services, interval=0, settle_timeout=timedelta(minutes=60))
    sweeper.start()
    try:
        finished = sweeper.next_pass()
        sweeper.trigger()
        assert await finished is None
        assert "hold sweep failed" in caplog.text
        finished = sweeper.next_pass()
        sweeper.trigger()
        assert await finished is not None
    finally:
        await sweeper.stop()


async def test_the_app_lifespan_runs_the_sweeper() -> None:
    app = create_app(make_settings(hold_sweep_interval_seconds=3600))
    sweeper = app.state.hold_sweeper
    assert sweeper.interval == 3600
    assert sweeper.settle_timeout == timedelta(minutes=60)
    async with app.router.lifespan_context(app):
        assert sweeper.running
        finished = sweeper.next_pass()
        sweeper.trigger()
        assert await finished is not None
    assert not sweeper.running
