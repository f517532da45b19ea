"""Stock stays fresh through the whole stack (sandboxes -> signed webhooks -> gateway ->
store), on the memory store and on SecantusDB:

- duplicate and out-of-order inventory webhooks leave the newest level in place, and the
  change is stored and announced once;
- a count changed upstream with no webhook is repaired by the scheduled reconciliation,
  logged, and counted in ``health``;
- an order whose stock webhooks were lost still refreshes the level it moved.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from gateway.demo import sandboxes
from resolvers.model import StockChange, StockLevel
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.store import Store
from sandboxes.demo import PosSystem
from tests.e2e.conftest import Demo
from tests.store.backends import fresh_database_name
from tests.support import listening_socket, make_settings, serve

#: Stock does not depend on how many people the world has; a small one boots faster.
PEOPLE_HERE = 40


@pytest.fixture
async def stack(mongo_uri: str | None) -> AsyncIterator[Demo]:
    """The stack on ``backend``, without the customer backfill (not needed here), with the
    stock warmup of the app's lifespan awaited (it also fills the Shopify SKU cache, so
    webhooks name SKUs) and reconciliation scheduled far away (the tests trigger it). The
    Shopify sandbox's cost bucket refills fast: a full read is paced by it, and pacing is
    not what these tests are about."""
    store: dict[str, Any] = {}
    if mongo_uri is not None:
        store = {"mongodb_uri": mongo_uri, "mongodb_database": fresh_database_name()}
    settings = make_settings(
        sync_on_start=False, stock_warmup=True, stock_reconcile_seconds=3600, **store
    )
    sock, url = listening_socket()
    async with (
        sandboxes(settings, people=PEOPLE_HERE, gateway_url=url) as demo_stack,
        aiohttp.ClientSession() as http,
    ):
        throttle = demo_stack.sandboxes["shopify"] + "/_sandbox/throttle"
        async with http.post(throttle, json={"restoreRate": 100_000}) as answer:
            assert answer.status == 200
        app = create_app(demo_stack.settings)
        async with serve(app, sock) as base:
            await app.state.stock_scheduler.warmed.wait()
            yield Demo(url=base, app=app, stack=demo_stack, http=http)


def store_of(demo: Demo) -> Store:
    store: Store = demo.app.state.services.store
    return store


async def level(demo: Demo, sku: str, location_id: str) -> StockLevel:
    (found,) = await store_of(demo).inventory.get_stock([sku], [location_id])
    return found


async def journal(demo: Demo, since: int, sku: str) -> list[StockChange]:
    return await store_of(demo).inventory.changes_since(since, skus=[sku])


def shopify_store(demo: Demo) -> tuple[str, str, str]:
    """A Shopify POS store's code and unified id, and a SKU it has plenty of."""
    world = demo.world
    loc = next(loc for loc in world.locations if loc.pos is PosSystem.SHOPIFY_POS)
    row = next(s for s in world.stock if s.location_code == loc.code and s.available >= 5)
    return loc.code, f"shopify:{loc.shopify_location_id}", row.sku


async def shopify_duplicates_and_out_of_order(stack: Demo) -> None:
    code, location_id, sku = shopify_store(stack)
    before = await level(stack, sku, location_id)
    seq = await store_of(stack).inventory.last_seq()
    bus = stack.app.state.services.events
    async with bus.subscribe(STOCK_TOPIC) as sub:
        sent = await stack.control(
            "shopify",
            "POST",
            "/_sandbox/inventory",
            json={"sku": sku, "location": code, "available": 3, "duplicates": 3},
        )
        assert [d["status"] for d in sent["deliveries"]] == [200] * 4
        after_duplicates = await journal(stack, seq, sku)
        assert [c.level.quantities["available"] for c in after_duplicates] == [3]
        assert after_duplicates[0].cause == "webhook"

        sent = await stack.control(
            "shopify",
            "POST",
            "/_sandbox/inventory",
            json={
                "sku": sku,
                "location": code,
                "available": 9,
                "out_of_order": True,
                "then": {"available": 7},
                "duplicates": 1,
            },
        )
        assert [d["status"] for d in sent["deliveries"]] == [200] * 4
        # This SKU's changes: on a shared module stack, a level another test's sale moved
        # may still be re-read from upstream meanwhile (its order webhook's stock refresh).
        announced = [
            change
            for change in (sub.queue.get_nowait() for _ in range(sub.queue.qsize()))
            if change.level.sku == sku
        ]

    stored = await level(stack, sku, location_id)
    assert stored.quantities["available"] == 7  # the newer change, delivered first
    assert stored.updated_at > before.updated_at
    changes = await journal(stack, seq, sku)
    assert [c.level.quantities["available"] for c in changes] == [3, 7]
    assert [(c.level.sku, c.level.quantities["available"]) for c in announced] == [
        (sku, 3),
        (sku, 7),
    ]
    assert stored.version == before.version + 2


async def square_duplicates_and_out_of_order(stack: Demo) -> None:
    world = stack.world
    loc = next(loc for loc in world.locations if loc.pos is PosSystem.SQUARE)
    row = next(s for s in world.stock if s.location_code == loc.code and s.available >= 5)
    seq = await store_of(stack).inventory.last_seq()
    await stack.control(
        "square",
        "POST",
        "/_sandbox/inventory",
        json={
            "sku": row.sku,
            "location_id": loc.square_location_id,
            "quantity": 11,
            "out_of_order": True,
            "then": {"quantity": 2},
            "duplicates": 2,
        },
    )
    changes = await journal(stack, seq, row.sku)
    assert [c.level.quantities["available"] for c in changes] == [2]
    (location_id,) = {c.level.location_id for c in changes}
    assert (await level(stack, row.sku, location_id)).quantities["available"] == 2


async def silent_change_repaired(stack: Demo, caplog: pytest.LogCaptureFixture) -> None:
    code, location_id, sku = shopify_store(stack)
    before = await level(stack, sku, location_id)
    sent = await stack.control(
        "shopify",
        "POST",
        "/_sandbox/inventory",
        json={"sku": sku, "location": code, "delta": -2, "webhook": False},
    )
    assert sent["deliveries"] == []
    assert (await level(stack, sku, location_id)).quantities == before.quantities  # not seen

    scheduler = stack.app.state.stock_scheduler
    seq = await store_of(stack).inventory.last_seq()
    with caplog.at_level(logging.WARNING, logger="omnigate.stock.sync"):
        done = scheduler.next_run()
        scheduler.trigger()
        summary = await done
    assert summary is not None
    assert (summary.cause, summary.repaired, summary.loaded) == ("reconciliation", 1, 0)
    assert summary.read >= len(stack.world.stock)
    repaired = await level(stack, sku, location_id)
    assert repaired.quantities["available"] == before.quantities["available"] - 2
    assert [c.cause for c in await journal(stack, seq, sku)] == ["reconciliation"]
    assert any("stock repaired" in r.getMessage() and sku in r.getMessage() for r in caplog.records)

    body = await stack.gql(
        "{ health { stockSync { kind repaired loaded levelsRead finishedAt failedSources } } }"
    )
    health = body["data"]["health"]["stockSync"]
    assert health["kind"] == "reconciliation"
    assert (health["repaired"], health["loaded"]) == (1, 0)
    assert health["levelsRead"] == summary.read
    assert health["finishedAt"] is not None
    assert health["failedSources"] == []


async def lost_stock_webhook_of_an_order(stack: Demo) -> None:
    code, location_id, sku = shopify_store(stack)
    before = await level(stack, sku, location_id)
    seq = await store_of(stack).inventory.last_seq()
    sale = await stack.control(
        "shopify",
        "POST",
        "/_sandbox/sales",
        json={"location": code, "lines": [{"sku": sku, "quantity": 2}], "stock_webhooks": False},
    )
    assert [d["topic"] for d in sale["deliveries"]] == ["orders/create"]
    after = await level(stack, sku, location_id)
    assert after.quantities["available"] == before.quantities["available"] - 2
    assert [c.cause for c in await journal(stack, seq, sku)] == ["order"]


async def warmup_loaded_every_level(stack: Demo) -> None:
    body = await stack.gql("{ health { stockSync { kind loaded repaired levelsRead } } }")
    health = body["data"]["health"]["stockSync"]
    assert health["kind"] == "warmup"
    assert health["repaired"] == 0
    stored = await store_of(stack).inventory.get_stock(sorted({s.sku for s in stack.world.stock}))
    assert health["loaded"] == len(stored) > 0


async def test_webhooks_duplicated_out_of_order_or_lost_leave_the_newest_level(
    stack: Demo,
) -> None:
    """Shopify and Square deliveries repeated and reordered change the level once, to the
    newest; an order whose stock webhook was lost re-reads the level it moved."""
    await shopify_duplicates_and_out_of_order(stack)
    await square_duplicates_and_out_of_order(stack)
    await lost_stock_webhook_of_an_order(stack)


async def test_warmup_loads_and_reconciliation_repairs_a_silent_change(
    stack: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    await warmup_loaded_every_level(stack)
    await silent_change_repaired(stack, caplog)
