"""The stock scheduler: warmup at start, reconciliation on a timer; a failed warmup is
retried by the schedule, and a warmup that hangs never holds up readiness."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp

from connectors.errors import UpstreamUnavailable
from connectors.registry import ConnectorSet
from gateway.app import create_app
from gateway.runtime import compose_services
from gateway.stock_scheduler import StockScheduler
from gateway.store import MemoryStore
from resolvers.context import Services
from resolvers.stock.sync import ReconcileSummary, last_run, reconcile_stock
from tests.resolvers.stock_fakes import T0, FakeInventory, level
from tests.support import make_settings, serve

TICK = 0.01


def vendor() -> FakeInventory:
    return FakeInventory([level("A", "shopify:1", 5, T0), level("B", "shopify:1", 2, T0)])


async def test_a_failed_warmup_is_retried_by_the_schedule() -> None:
    fake = vendor()
    fake.fail = UpstreamUnavailable("down", source="shopify", operation="list")
    services = compose_services(MemoryStore(), ConnectorSet([fake]))  # type: ignore[list-item]
    scheduler = StockScheduler(services, interval=TICK)
    warmup = scheduler.next_run()
    scheduler.start()
    try:
        failed = await warmup
        assert scheduler.warmed.is_set()
        assert failed is not None
        assert (failed.cause, failed.failed_sources) == (
            "warmup",
            {"shopify": "UPSTREAM_UNAVAILABLE"},
        )
        fake.fail = None
        fake.set("A", "shopify:1", 4, timedelta(seconds=1))
        retried = await scheduler.next_run()  # the timer alone runs it
    finally:
        await scheduler.stop()
    assert retried is not None
    assert (retried.cause, retried.loaded) == ("reconciliation", 2)
    kept = await last_run(services)
    assert kept is not None
    assert kept["loaded"] == 2


async def test_zero_interval_warms_once_and_schedules_nothing() -> None:
    fake = vendor()
    services = compose_services(MemoryStore(), ConnectorSet([fake]))  # type: ignore[list-item]
    scheduler = StockScheduler(services, interval=0)
    scheduler.start()
    await scheduler.warmed.wait()
    scheduler.trigger()
    await scheduler.stop()
    assert scheduler.runs == 1
    assert len(await services.store.inventory.get_stock(["A", "B"])) == 2


async def test_a_hanging_warmup_does_not_hold_up_readiness() -> None:
    fake = vendor()
    fake.gate = asyncio.Event()  # never opened: upstream never answers
    services = compose_services(MemoryStore(), ConnectorSet([fake]))  # type: ignore[list-item]
    app = create_app(make_settings(stock_warmup=True), services=services)
    async with serve(app) as url, aiohttp.ClientSession() as http:
        await fake.entered.wait()
        async with http.get(f"{url}/readyz") as response:
            assert response.status == 200
        assert not app.state.stock_scheduler.warmed.is_set()
    # Shutdown cancelled the warmup stuck upstream.
    assert app.state.stock_scheduler.runs == 0


async def test_the_warmup_waits_for_the_store() -> None:
    """A store that was down at start is warmed as soon as it is initialised."""
    fake = vendor()
    services = compose_services(MemoryStore(), ConnectorSet([fake]))  # type: ignore[list-item]
    scheduler = StockScheduler(services, interval=0)
    store_ready = asyncio.Event()
    warmup = scheduler.next_run()
    scheduler.start(store_ready=store_ready)
    await scheduler.waiting_for_store.wait()
    assert not fake.entered.is_set()  # nothing read upstream while the store is down
    store_ready.set()
    summary = await warmup
    await scheduler.stop()
    assert summary is not None
    assert summary.loaded == 2


async def test_each_reconciliation_refreshes_the_catalog_first() -> None:
    services = compose_services(MemoryStore(), ConnectorSet([vendor()]))  # type: ignore[list-item]
    order: list[str] = []

    async def catalog(_: object) -> None:
        order.append("catalog")
        if len(order) == 1:
            raise RuntimeError("catalog source down")  # logged; the reconciliation still runs

    async def reconcile(services: Services, *, holder: str) -> ReconcileSummary:
        order.append("reconcile")
        return await reconcile_stock(services, holder=holder)

    scheduler = StockScheduler(
        services, interval=3600, warmup=False, reconcile=reconcile, catalog=catalog
    )
    scheduler.start()
    try:
        for _ in range(2):
            finished = scheduler.next_run()
            scheduler.trigger()
            assert await finished is not None
    finally:
        await scheduler.stop()
    assert order == ["catalog", "reconcile", "catalog", "reconcile"]
