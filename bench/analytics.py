"""Analytics benchmark: prints how long the customer and order figures and a segment page
take on 50,000 synthetic people on the memory store, and on 10,000 on SecantusDB (MongoDB's wire
protocol over WiredTiger, through the real ``AsyncMongoClient``), measured in one run.

Each person has 0 to 8 orders over two years in two channels and four stores. Timed:
``buyers_between`` + the order figures for the last 365 days (what the four customer fields
of ``analytics`` share), and one page of a three-condition segment with its total.
Not timed yet: the pickup and stock figures (they need holds and a journal at that scale)
and a saved segment reflecting a webhook.

Run: ``make bench`` or ``.venv/bin/python bench/analytics.py [--people N] [--no-mongo]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.records import Channel, Source
from gateway.store.memory.segments import MemorySegments
from gateway.store.mongo import MongoBackend, MongoSegments
from gateway.store.mongo.base import MongoTimeouts, client_options
from resolvers.analytics.orders import order_figures
from resolvers.analytics.scope import AnalyticsScope
from resolvers.segments.filters import AmountRange, CustomerFilter, When, build
from resolvers.store import SegmentFactStore
from resolvers.store.segments import ChannelMix, OrderFact, OrderLine, SegmentFacts, channel_mix

NOW = datetime(2026, 12, 1, tzinfo=UTC)
STORES = ["L1", "L2", "L3", "L4"]
SOURCES = [Source("shopify"), Source("square"), Source("klaviyo")]


def people(count: int, seed: int = 21) -> list[SegmentFacts]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        orders = []
        for k in range(rng.randint(0, 8)):
            channel = rng.choice((Channel.ONLINE, Channel.IN_STORE))
            total = Decimal(rng.randint(500, 30000)) / 100
            sku = f"SKU-{rng.randint(1, 400):03d}"
            orders.append(
                OrderFact(
                    f"o{n}-{k}",
                    channel,
                    rng.choice(STORES) if channel is Channel.IN_STORE else None,
                    NOW - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
                    total,
                    "USD",
                    (OrderLine(sku, rng.randint(1, 3), total),),
                )
            )
        placed = sorted(o.placed_at for o in orders)
        out.append(
            SegmentFacts(
                f"cus_{n:06d}",
                1,
                channels=frozenset(o.channel for o in orders),
                lifetime_value=sum((o.total for o in orders), Decimal(0)),
                order_count=len(orders),
                first_order_at=placed[0] if placed else None,
                last_order_at=placed[-1] if placed else None,
                email_consent=rng.random() < 0.7,
                sources=frozenset(rng.sample(SOURCES, rng.randint(1, 3))),
                orders=tuple(orders),
            )
        )
    return out


async def timed(label: str, work: object) -> float:
    start = time.perf_counter()
    await work  # type: ignore[misc]
    took = time.perf_counter() - start
    print(f"  {label:<48} {took * 1000:8.0f} ms")
    return took


async def measure(name: str, store: SegmentFactStore, facts: list[SegmentFacts]) -> None:
    print(f"{name}: {len(facts):,} people")
    start = time.perf_counter()
    await asyncio.gather(*(store.put_facts(f) for f in facts[:1]))
    for i in range(0, len(facts), 500):
        await asyncio.gather(*(store.put_facts(f) for f in facts[i : i + 500]))
    print(f"  {'loading the facts':<48} {(time.perf_counter() - start) * 1000:8.0f} ms")
    scope = AnalyticsScope(NOW - timedelta(days=365), NOW)

    async def figures() -> None:
        buyers = await store.buyers_between(scope.since, scope.until)
        order_figures(buyers, scope, first_skus=100)

    await timed("customer and order figures, 365 days", figures())
    where = build(
        CustomerFilter(
            channel=ChannelMix.IN_STORE_ONLY,
            lifetime_value=AmountRange(min=Decimal(100)),
            last_order=When(within_days=180),
        ),
        NOW,
    )
    await timed(
        "segment page of 50 with its total (3 conditions)", store.find_facts(where, first=50)
    )
    mixes = sum(1 for f in facts if channel_mix(f.channels) is ChannelMix.IN_STORE_ONLY)
    print(f"  ({mixes:,} in-store-only people in the dataset)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--no-mongo", action="store_true")
    # Loading SecantusDB one conditional upsert at a time is ~4 ms a person here.
    parser.add_argument("--mongo-people", type=int, default=10_000)
    args = parser.parse_args()
    facts = people(args.people)
    await measure("memory", MemorySegments(), facts)
    if args.no_mongo:
        return
    from pymongo import AsyncMongoClient
    from secantus import SecantusDBServer

    with tempfile.TemporaryDirectory() as path, SecantusDBServer(storage_path=path) as server:
        timeouts = MongoTimeouts(server_selection=10.0, connect=10.0, operation=120.0)
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            server.uri, **client_options(timeouts, server.uri)
        )
        try:
            backend = MongoBackend(client, "omnigate_bench")
            store = MongoSegments(backend)
            await store.prepare()
            await measure("SecantusDB", store, facts[: args.mongo_people])
        finally:
            await client.close()


if __name__ == "__main__":
    asyncio.run(main())
