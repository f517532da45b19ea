"""Stock benchmark: prints figures measured in one run against the real stack (sandboxes and
gateways each in a process of their own, clients in this one, loopback HTTP and WebSocket).

- webhook-to-subscriber latency, p50/p99, with 1, 100 and 1,000 ``stockChanged`` WebSocket
  subscribers: from the moment the Shopify sandbox is told to change a level (it then sends
  the signed ``inventory_levels/update``) to the moment each subscriber has the new level;
- pickup holds per second (``createPickupHold`` over HTTP, 50 concurrent clients) on the
  memory store and on SecantusDB;
- oversold units after 500 concurrent ``createPickupHold`` attempts on 10 units, on the
  memory store, on SecantusDB, and spread over two gateway processes sharing SecantusDB
  (must be 0 each time).

Run: ``make bench`` or ``.venv/bin/python bench/stock.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import free_port, gateway_process, pct, print, sandbox_processes
from gateway.settings import Settings
from tests.e2e.ws import GraphQLWS, Operation, connect

STOCK = """query($skus: [String!]!, $locations: [ID!]) {
  stock(skus: $skus, locationIds: $locations) { available held sellableForPickup version }
}"""
HOLD = """mutation($input: CreatePickupHoldInput!) { createPickupHold(input: $input) { id } }"""
LIVE = """subscription($skus: [String!]!, $locations: [ID!]) {
  stockChanged(skus: $skus, locationIds: $locations) {
    cursor resync level { available version }
  }
}"""
TOKEN = "demo-internal"


async def gql(http: aiohttp.ClientSession, base: str, query: str, **variables: Any) -> Any:
    async with http.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as resp:
        return await resp.json()


async def wait_for(
    http: aiohttp.ClientSession, base: str, sku: str, location: str, available: int
) -> dict[str, Any]:
    """Poll the gateway until it serves this level (warmup or a webhook has landed)."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            body = await gql(http, base, STOCK, skus=[sku], locations=[location])
            levels = (body.get("data") or {}).get("stock") or []
            if levels and levels[0]["available"] == available:
                return dict(levels[0])
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sku} at {location} never showed {available} available")
        await asyncio.sleep(0.05)


async def warmed(http: aiohttp.ClientSession, base: str) -> None:
    """Wait until the gateway's start-up stock warmup has run (``health.stockSync``), so no
    figure measures a warmup's burst of writes."""
    deadline = time.monotonic() + 120
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            body = await gql(http, base, "{ health { stockSync { finishedAt } } }")
            sync = ((body.get("data") or {}).get("health") or {}).get("stockSync")
            if sync and sync.get("finishedAt"):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base} never finished its stock warmup")
        await asyncio.sleep(0.1)


async def set_level(
    http: aiohttp.ClientSession, sandbox: str, sku: str, location: str, available: int
) -> None:
    async with http.post(
        f"{sandbox}/_sandbox/inventory",
        json={"sku": sku, "location": location, "available": available},
    ) as resp:
        assert resp.status < 400, await resp.text()


def pickup_targets(stack: Any, count: int) -> list[tuple[str, str, str]]:
    """Distinct SKUs stocked at Shopify POS stores that offer pickup, one per figure so no
    figure starts with another's holds: (sku, unified location id, Shopify location id)."""
    world = stack.world
    stores = {
        loc.code: loc
        for loc in world.locations
        if loc.is_store and loc.pickup_enabled and loc.square_location_id is None
    }
    targets: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for level in world.stock:
        store = stores.get(level.location_code)
        if store is None or level.sku in seen:
            continue
        seen.add(level.sku)
        shopify_id = store.shopify_location_id
        targets.append((level.sku, f"shopify:{shopify_id}", str(shopify_id)))
        if len(targets) == count:
            return targets
    raise LookupError("the demo world has too few pickup stores with stock")


# --- live updates -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def subscribers(
    base: str, count: int, sku: str, location: str
) -> AsyncIterator[list[Operation]]:
    async with contextlib.AsyncExitStack() as stack:
        clients: list[GraphQLWS] = []
        for start in range(0, count, 100):  # connect in waves: the listen backlog is finite
            clients += await asyncio.gather(
                *(
                    stack.enter_async_context(connect(base, token=TOKEN))
                    for _ in range(start, min(count, start + 100))
                )
            )
        yield [
            await client.subscribe(LIVE, {"skus": [sku], "locations": [location]})
            for client in clients
        ]


async def receive(operation: Operation, available: int) -> float:
    """When this subscriber got the level with ``available`` (``perf_counter``)."""
    while True:
        event = await operation.data("stockChanged", wait=30)
        if not event["resync"] and event["level"]["available"] == available:
            return time.perf_counter()


async def latency(
    http: aiohttp.ClientSession,
    base: str,
    sandbox: str,
    target: tuple[str, str, str],
    count: int,
    rounds: int,
) -> list[float]:
    sku, location, shopify_id = target
    samples: list[float] = []
    async with subscribers(base, count, sku, location) as operations:
        # The server registers a subscription after its `subscribe` message, with no answer:
        # changes are sent until every subscriber has seen one, so all are live.
        for attempt in range(50):
            warm = 500 + 50 * count + attempt
            waiting = [asyncio.ensure_future(receive(op, warm)) for op in operations]
            await set_level(http, sandbox, sku, shopify_id, warm)
            _, late = await asyncio.wait(waiting, timeout=2)
            for task in late:
                task.cancel()
            if not late:
                break
        else:
            raise TimeoutError(f"{count} subscribers never all went live")
        for n in range(rounds):
            available = 1000 + count + n
            waiting = [asyncio.ensure_future(receive(op, available)) for op in operations]
            sent = time.perf_counter()
            await set_level(http, sandbox, sku, shopify_id, available)
            samples += [got - sent for got in await asyncio.gather(*waiting)]
    return samples


# --- holds ------------------------------------------------------------------------------------


async def attempt(
    http: aiohttp.ClientSession, base: str, sku: str, location: str, key: str
) -> str | None:
    """One hold attempt; the hold's id, or the error code that refused it."""
    body = await gql(
        http,
        base,
        HOLD,
        input={
            "sku": sku,
            "locationId": location,
            "quantity": 1,
            "ttlMinutes": 30,
            "idempotencyKey": key,
        },
    )
    if body.get("errors"):
        code = body["errors"][0].get("extensions", {}).get("code")
        if code != "INSUFFICIENT_STOCK":
            raise RuntimeError(f"hold attempt failed: {body['errors']}")
        return None
    return str(body["data"]["createPickupHold"]["id"])


async def oversell(
    http: aiohttp.ClientSession,
    bases: list[str],
    sandbox: str,
    target: tuple[str, str, str],
    tag: str,
    attempts: int = 500,
    units: int = 10,
) -> tuple[int, int, int]:
    """``attempts`` concurrent attempts on ``units`` units, spread over ``bases``: returns
    (holds granted, units the store says are held, units oversold)."""
    sku, location, shopify_id = target
    await set_level(http, sandbox, sku, shopify_id, units)
    level = await wait_for(http, bases[0], sku, location, units)
    assert level["held"] == 0, level
    granted = await asyncio.gather(
        *(
            attempt(http, bases[n % len(bases)], sku, location, f"{tag}-{n}")
            for n in range(attempts)
        )
    )
    won = sum(g is not None for g in granted)
    after = await wait_for(http, bases[0], sku, location, units)
    return won, int(after["held"]), max(0, won - units, int(after["held"]) - units)


async def holds_per_second(
    http: aiohttp.ClientSession,
    base: str,
    sandbox: str,
    target: tuple[str, str, str],
    tag: str,
    holds: int = 1000,
    clients: int = 50,
) -> float:
    sku, location, shopify_id = target
    await set_level(http, sandbox, sku, shopify_id, 100_000)
    await wait_for(http, base, sku, location, 100_000)
    queue = iter(range(holds))

    async def client() -> None:
        for n in queue:
            assert await attempt(http, base, sku, location, f"{tag}-rate-{n}") is not None

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return holds / (time.perf_counter() - start)


def report(label: str, outcome: tuple[int, int, int]) -> None:
    won, held, oversold = outcome
    print(
        f"{label}: 500 concurrent hold attempts on 10 units: {won} granted, "
        f"{held} held in the store, oversold {oversold}"
    )


# --- stores -----------------------------------------------------------------------------------


def _serve_secantus(conn: Connection, path: str) -> None:
    from secantus import SecantusDBServer

    server = SecantusDBServer(storage_path=path)
    server.start()
    conn.send(str(server.uri))
    conn.recv()
    server.stop()


@contextlib.contextmanager
def secantus() -> Iterator[str]:
    """SecantusDB in a process of its own, as a database server runs: in this one its
    threads would share the interpreter with the benchmark's clients."""
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as path:
        parent, child = spawn.Pipe()
        process = spawn.Process(target=_serve_secantus, args=(child, path), daemon=True)
        process.start()
        try:
            yield str(parent.recv())
        finally:
            parent.send("stop")
            process.join(timeout=20)


def gateway_settings(base: Settings, uri: str | None = None, database: str = "bench") -> Settings:
    update: dict[str, Any] = {"log_level": "WARNING", "sync_on_start": False, "stock_warmup": True}
    if uri is not None:
        update |= {"mongodb_uri": SecretStr(uri), "mongodb_database": database}
    return base.model_copy(update=update)


async def main(rounds: int) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with sandbox_processes(200, url) as stack:
        live, mem, mem_rate, mdb, two, mdb_rate, mdb_live = pickup_targets(stack, 7)
        sandbox = stack.sandboxes["shopify"]
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        async with http:
            with gateway_process(gateway_settings(stack.settings), port) as base:
                await warmed(http, base)
                print("webhook -> subscriber latency (memory store, in-process bus):")
                for count in (1, 100, 1000):
                    samples = await latency(http, base, sandbox, live, count, rounds)
                    print(
                        f"  {count:5d} subscribers: p50 {pct(samples, 0.5) * 1000:6.1f} ms, "
                        f"p99 {pct(samples, 0.99) * 1000:6.1f} ms ({len(samples)} deliveries)"
                    )
                report("memory store", await oversell(http, [base], sandbox, mem, "mem"))
                rate = await holds_per_second(http, base, sandbox, mem_rate, "mem")
                print(f"memory store: {rate:.0f} holds/s (50 clients)")

            with secantus() as uri:
                settings = gateway_settings(stack.settings, uri)
                other = free_port()
                with (
                    gateway_process(settings, port) as base,
                    gateway_process(settings.model_copy(), other) as second,
                ):
                    await warmed(http, base)
                    await warmed(http, second)
                    samples = await latency(http, second, sandbox, mdb_live, 100, rounds)
                    print(
                        "webhook -> subscriber latency, SecantusDB, webhook to one gateway, "
                        f"100 subscribers on the other (change stream): p50 "
                        f"{pct(samples, 0.5) * 1000:.1f} ms, p99 {pct(samples, 0.99) * 1000:.1f} ms"
                    )
                    report("SecantusDB", await oversell(http, [base], sandbox, mdb, "mdb"))
                    report(
                        "SecantusDB, two gateway processes",
                        await oversell(http, [base, second], sandbox, two, "two"),
                    )
                    rate = await holds_per_second(http, base, sandbox, mdb_rate, "mdb")
                    print(f"SecantusDB: {rate:.0f} holds/s (50 clients)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="changes per latency figure")
    asyncio.run(main(parser.parse_args().rounds))
