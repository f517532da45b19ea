"""The oversell proof across OS processes: two Python processes, each with its own client
and event loop, race 250 hold attempts each for 10 units on one SecantusDB server. What
decides is the store's conditional write, not any lock inside one process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from gateway.store import MongoStore
from tests.resolvers.holds_world import SHOPIFY_STORE, SKU, seed
from tests.store.backends import fresh_database_name

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.mongo


async def test_two_processes_oversell_nothing(secantus_uri: str) -> None:
    database = fresh_database_name()
    store = MongoStore(secantus_uri, database)
    await store.init()
    await seed(store, 10)
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
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert (await worker.stdout.readline()).strip() == b"ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        reports = [(await w.communicate())[0].decode().split() for w in workers]
        assert [w.returncode for w in workers] == [0, 0]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
    won = [int(report[1]) for report in reports]
    assert sum(won) == 10
    assert sum(int(report[3]) for report in reports) == 490

    # Count the winners from the store itself, not from what the processes said.
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(secantus_uri)
    try:
        db = client[database]
        assert await db["holds"].count_documents({"status": "active"}) == 10
        [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
        assert level.held == 10
        assert level.sellable == 0
    finally:
        await client.drop_database(database)
        await client.close()
        await store.close()
