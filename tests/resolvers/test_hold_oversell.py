"""The oversell proof: 500 hold attempts race for 10 units, and exactly 10 win.

In one process (asyncio.gather at the service level) on the memory store and on SecantusDB,
and across two OS processes, each with its own client and event loop, sharing one SecantusDB
server: what decides is the store's conditional write, not anything inside one process.
Winners are counted from the store, not from what the callers said.

The two-process run is the one that matters most on MongoDB: within one process the store
queues its journalled writes (one at a time per process), so only separate processes put
two transactions on the same stock document at once.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from gateway.store import MongoStore, MongoTimeouts
from resolvers.errors import OmnigateError
from resolvers.model import HoldStatus
from resolvers.stock import holds
from resolvers.store import Store
from tests.resolvers.holds_world import INTERNAL, SHOPIFY_STORE, SKU, T0, hold_services, seed
from tests.store.backends import fresh_database_name

ROOT = Path(__file__).resolve().parents[2]
PATIENT = MongoTimeouts(server_selection=10.0, connect=10.0, operation=60.0)


async def held_units(store: Store, hold_ids: list[str]) -> int:
    """Units the store says are held by active holds among ``hold_ids``."""
    total = 0
    for hold_id in hold_ids:
        hold = await store.inventory.get_hold(hold_id)
        if hold is not None and hold.status is HoldStatus.ACTIVE:
            total += hold.quantity
    return total


async def test_500_concurrent_attempts_on_10_units_sell_exactly_10(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 10)
    customers = [f"c{n}" for n in range(500)]

    async def attempt(customer_id: str) -> str:
        request = holds.HoldRequest(SKU, SHOPIFY_STORE, 1, customer_id=customer_id)
        try:
            await holds.create(services, INTERNAL, request, now=T0)
        except OmnigateError as exc:
            return exc.code
        return "OK"

    outcomes = Counter(await asyncio.gather(*(attempt(c) for c in customers)))

    assert outcomes == {"OK": 10, "INSUFFICIENT_STOCK": 490}
    found = [
        hold.id
        for customer_id in customers
        for hold in await store.inventory.holds_for_customer(customer_id)
    ]
    assert len(found) == 10
    assert await held_units(store, found) == 10
    [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
    assert level.held == 10
    assert level.sellable == 0  # 0 oversold: never below zero


@pytest.mark.mongo
@pytest.mark.timeout(120)
async def test_two_processes_oversell_nothing(secantus_uri: str) -> None:
    database = fresh_database_name()
    store = MongoStore(secantus_uri, database, timeouts=PATIENT)
    await store.init()
    await seed(hold_services(store), 10)
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.resolvers.hold_worker",
            secantus_uri,
            database,
            name,
            "250",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in ("p1", "p2")
    ]
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(secantus_uri)
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert (await worker.stdout.readline()).strip() == b"ready"
        for worker in workers:  # both are connected and waiting: start the race
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        reports = [(await w.communicate())[0].decode().split() for w in workers]
        assert [w.returncode for w in workers] == [0, 0]

        said = [int(report[1]) for report in reports]
        assert sum(said) == 10
        assert sum(int(report[3]) for report in reports) == 490
        # Counted from the store itself.
        assert await client[database]["holds"].count_documents({"status": "active"}) == 10
        [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
        assert level.held == 10
        assert level.sellable == 0
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        await client.drop_database(database)
        await client.close()
        await store.close()
