"""Two gateway replicas over one SecantusDB store (``OMNIGATE_STOCK_BUS=auto`` resolves to
the change-stream bus on MongoDB): a stock change made through either reaches WebSocket
subscribers of both, once each, in journal order; a pickup hold whose ttl ran out, swept by
both replicas at once, expires once: its units come back once and each subscriber hears of it
once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from starlette.applications import Starlette

from gateway.app import create_app
from resolvers.model import Hold, HoldStatus, StockLevel
from resolvers.stock.levels import store_level
from resolvers.stock.live import encode_cursor
from tests.e2e.ws import Operation, connect
from tests.store.backends import fresh_database_name
from tests.support import make_settings, serve

pytestmark = pytest.mark.mongo

SUBSCRIPTION = """
subscription Live($skus: [String!]!, $since: String) {
  stockChanged(skus: $skus, since: $since) {
    cursor cause level { sku locationId available version }
  }
}
"""
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
NOW = datetime.now(UTC)


@pytest.fixture
async def database(secantus_uri: str) -> AsyncIterator[str]:
    name = fresh_database_name()
    yield name
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(secantus_uri)
    await client.drop_database(name)
    await client.close()


async def ready(app: Starlette) -> None:
    feed = app.state.stock_feed
    assert feed is not None, "the change-stream bus should be on over MongoDB"
    async with asyncio.timeout(10):
        await app.state.store_ready.wait()
        await feed.watching.wait()


async def change(app: Starlette, n: int) -> int:
    level = StockLevel("R-1", "square:L1", {"available": n}, T0 + timedelta(minutes=n))
    stored = await store_level(app.state.services, level, cause="webhook")
    assert stored is not None
    return stored.seq


async def availability(operation: Operation) -> tuple[int, int]:
    event = await operation.data("stockChanged")
    return event["level"]["available"], event["level"]["version"]


async def test_a_change_made_through_one_replica_reaches_subscribers_of_both(
    secantus_uri: str, database: str
) -> None:
    settings = make_settings(
        mongodb_uri=secantus_uri,
        mongodb_database=database,
        tokens={"sf": {"role": "storefront"}},
    )
    assert settings.stock_bus_kind == "mongo"
    one, two = create_app(settings), create_app(settings)
    async with serve(one) as url_one, serve(two) as url_two:
        await ready(one)
        await ready(two)
        async with connect(url_one, token="sf") as c1, connect(url_two, token="sf") as c2:
            since = encode_cursor(await one.state.services.store.inventory.last_seq())
            on_one = await c1.subscribe(SUBSCRIPTION, {"skus": ["R-1"], "since": since})
            on_two = await c2.subscribe(SUBSCRIPTION, {"skus": ["R-1"], "since": since})

            await change(one, 1)  # through replica one
            assert await availability(on_two) == (1, 1)
            assert await availability(on_one) == (1, 1)

            await change(two, 2)  # and back through replica two
            await change(one, 3)
            assert [await availability(on_one) for _ in range(2)] == [(2, 2), (3, 3)]
            assert [await availability(on_two) for _ in range(2)] == [(2, 2), (3, 3)]
            # Each replica's own writes came once (its feed's copy, not also its own): the
            # next event after a fourth change is that change, not a repeat.
            await change(two, 4)
            assert await availability(on_one) == (4, 4)
            assert await availability(on_two) == (4, 4)


async def test_a_hold_swept_by_both_replicas_expires_exactly_once(
    secantus_uri: str, database: str
) -> None:
    settings = make_settings(
        mongodb_uri=secantus_uri,
        mongodb_database=database,
        tokens={"sf": {"role": "storefront"}},
        hold_sweep_interval_seconds=0.05,  # both sweep all the time
    )
    one, two = create_app(settings), create_app(settings)
    async with serve(one) as url_one, serve(two) as url_two:
        await ready(one)
        await ready(two)
        await change(one, 10)
        inventory = one.state.services.store.inventory
        hold = Hold(
            id="hold-replicas",
            sku="R-1",
            location_id="square:L1",
            quantity=3,
            status=HoldStatus.ACTIVE,
            # Due in the future by the replicas' own clocks: their scheduled passes leave it.
            created_at=NOW,
            expires_at=NOW + timedelta(minutes=30),
        )
        placed = await inventory.create_hold(hold)
        assert placed is not None
        assert placed.change is not None
        async with connect(url_one, token="sf") as c1, connect(url_two, token="sf") as c2:
            since = encode_cursor(placed.change.seq)
            on_one = await c1.subscribe(SUBSCRIPTION, {"skus": ["R-1"], "since": since})
            on_two = await c2.subscribe(SUBSCRIPTION, {"skus": ["R-1"], "since": since})
            # Both sweepers' clocks jump past the ttl at once; beside their scheduled
            # passes each gets one of its own at the same moment: every pass races.
            for app in (one, two):
                app.state.hold_sweeper.clock = lambda: NOW + timedelta(hours=1)
            await asyncio.gather(
                one.state.hold_sweeper.run_once(), two.state.hold_sweeper.run_once()
            )
            passes = [one.state.hold_sweeper.next_pass(), two.state.hold_sweeper.next_pass()]
            await asyncio.wait_for(asyncio.gather(*passes), 10)
            events = [await on_one.data("stockChanged"), await on_two.data("stockChanged")]
            # One more change: the next event each subscriber gets is it, not a second expiry.
            await change(two, 11)
            after = [await on_one.data("stockChanged"), await on_two.data("stockChanged")]
        finished = await inventory.get_hold("hold-replicas")
        [level] = await inventory.get_stock(["R-1"])
        journal = await inventory.changes_since(placed.change.seq, skus=["R-1"])
    # Whichever passes ran (scheduled or asked for), the journal holds one expiry.
    assert [c.cause for c in journal] == ["expiry", "webhook"]
    assert finished is not None
    assert finished.status is HoldStatus.EXPIRED
    assert [e["cause"] for e in events] == ["expiry", "expiry"]
    assert {e["cursor"] for e in events} == {events[0]["cursor"]}  # the same journal entry
    assert [(e["cause"], e["level"]["available"]) for e in after] == [("webhook", 11)] * 2
    assert level.held == 0
    assert level.version == placed.change.level.version + 2  # the expiry, then the change
