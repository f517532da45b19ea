"""Warmup and reconciliation (resolvers/stock/sync.py) on every store backend: what is
loaded, repaired, refreshed or left alone, the safety stock corrected to the setting, a
failing source reported, and one run at a time under the lease."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from connectors.errors import UpstreamUnavailable
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from resolvers.config import ResolverConfig
from resolvers.context import Services
from resolvers.model import StockLevel
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.stock.levels import store_level
from resolvers.stock.sync import last_run, reconcile_stock, warm_stock
from resolvers.store import Store
from tests.resolvers.stock_fakes import T0, FakeInventory, level


def world() -> FakeInventory:
    return FakeInventory(
        [
            level("A", "shopify:1", 5, T0),
            level("B", "shopify:1", 3, T0),
            level("C", "shopify:2", 8, T0),
        ]
    )


def services_for(store: Store, *vendors: FakeInventory, **config: object) -> Services:
    return compose_services(store, ConnectorSet(vendors), config=ResolverConfig(**config))  # type: ignore[arg-type]


async def test_warmup_loads_then_reconciliation_repairs_only_drift(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    vendor = world()
    services = services_for(store, vendor)
    warm = await warm_stock(services)
    assert (warm.read, warm.loaded, warm.repaired) == (3, 3, 0)

    vendor.set("A", "shopify:1", 2, timedelta(minutes=5))  # changed, no webhook: drift
    vendor.set("B", "shopify:1", 3, timedelta(minutes=5))  # newer, same count
    seq = await store.inventory.last_seq()
    async with services.events.subscribe(STOCK_TOPIC) as announced:
        with caplog.at_level(logging.WARNING, logger="omnigate.stock.sync"):
            summary = await reconcile_stock(services)
        published = [announced.queue.get_nowait() for _ in range(announced.queue.qsize())]

    assert (summary.read, summary.loaded, summary.repaired) == (3, 0, 1)
    assert (summary.refreshed, summary.unchanged) == (1, 1)
    (a,) = await store.inventory.get_stock(["A"], ["shopify:1"])
    assert a.quantities["available"] == 2
    changes = await store.inventory.changes_since(seq)
    assert [(c.level.sku, c.cause) for c in changes] == [
        ("A", "reconciliation"),
        ("B", "reconciliation"),
    ]
    assert [c.seq for c in published] == [c.seq for c in changes]
    (repair,) = [r for r in caplog.records if "stock repaired" in r.getMessage()]
    assert "A at shopify:1" in repair.getMessage()
    assert "{'available': 5}" in repair.getMessage()
    assert "{'available': 2}" in repair.getMessage()

    kept = await last_run(services)
    assert kept is not None
    assert (kept["cause"], kept["repaired"], kept["loaded"], kept["read"]) == (
        "reconciliation",
        1,
        0,
        3,
    )
    again = await reconcile_stock(services)
    assert (again.repaired, again.unchanged) == (0, 3)
    assert await store.inventory.last_seq() == changes[-1].seq  # steady state: no writes


async def test_a_changed_safety_stock_setting_is_corrected(store: Store) -> None:
    vendor = world()
    await warm_stock(services_for(store, vendor))
    services = services_for(store, vendor, safety_stock=(("shopify:1", 2),))
    summary = await reconcile_stock(services)
    assert summary.safety_stock_corrected == 2
    assert summary.repaired == 0
    levels = await store.inventory.get_stock(["A", "B", "C"])
    assert {(lv.sku, lv.safety_stock) for lv in levels} == {("A", 2), ("B", 2), ("C", 0)}
    assert (await reconcile_stock(services)).safety_stock_corrected == 0


async def test_a_failing_source_is_reported_and_the_others_still_load(store: Store) -> None:
    down = world()
    down.fail = UpstreamUnavailable("down", source="shopify", operation="list")
    square = FakeInventory([level("A", "square:L1", 4, T0, "square")], source="square")
    summary = await warm_stock(services_for(store, down, square))
    assert summary.failed_sources == {"shopify": "UPSTREAM_UNAVAILABLE"}
    assert summary.loaded == 1
    assert [lv.location_id for lv in await store.inventory.get_stock(["A"])] == ["square:L1"]


async def test_one_run_at_a_time(store: Store) -> None:
    vendor = world()
    vendor.gate = asyncio.Event()
    services = services_for(store, vendor)
    runs = [asyncio.create_task(reconcile_stock(services, holder=f"r{n}")) for n in range(6)]
    await vendor.entered.wait()
    pending = set(runs)
    while len(pending) > 1:  # every run but the lease holder returns on its own
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    vendor.gate.set()
    summaries = [await run for run in runs]
    assert sorted(s.busy for s in summaries) == [False] + [True] * 5
    (ran,) = [s for s in summaries if not s.busy]
    assert ran.loaded == 3


async def test_a_reconciliation_never_undoes_a_newer_webhook(store: Store) -> None:
    """The run read upstream before a webhook brought a newer level: the store's timestamp
    rule keeps the webhook's level, and the run counts it unchanged, not repaired."""
    vendor = world()
    services = services_for(store, vendor)
    await warm_stock(services)
    vendor.set("A", "shopify:1", 1, timedelta(minutes=1))  # what the run will read
    vendor.gate = asyncio.Event()
    run = asyncio.create_task(reconcile_stock(services))
    await vendor.entered.wait()
    newer = StockLevel("A", "shopify:1", {"available": 9}, T0 + timedelta(minutes=2))
    assert await store_level(services, newer, cause="webhook") is not None
    vendor.gate.set()
    summary = await run
    (a,) = await store.inventory.get_stock(["A"], ["shopify:1"])
    assert a.quantities["available"] == 9
    assert summary.repaired == 0
    assert summary.unchanged == 3
