"""Loyalty benchmark: prints figures measured in one run, at the store (no HTTP): the paths
the gateway runs (``apply_ledger_entry``, ``earning.accrue``) against the memory store and
SecantusDB (in a process of its own, as a database server runs).

- ledger writes per second: one writer, then 50 concurrent writers, on distinct accounts and
  on one hot account (where every write is a conditional update of the same account);
- the time to settle a backfill: ``accrue`` over every order of the demo dataset's 50,000
  people (generated, deterministic: Shopify online and POS orders, Square orders, refunds),
  50 members at a time, as a first sync hands each rebuilt profile's orders to it. On
  SecantusDB the first ``--secantus-members`` members are measured and the whole projected
  from their rate (said so in the output), with a 20 s operation timeout: at the gateway's
  default 2 s, 50 members' accrues at once on SecantusDB fail with ``ExecutionTimeout``.

Run: ``make bench`` or ``.venv/bin/python bench/loyalty.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import print
from bench.stock import secantus
from connectors.records import Channel, Money, OrderRecord, Source
from gateway.store import MemoryStore, MongoStore, MongoTimeouts
from resolvers.config import ResolverConfig
from resolvers.events import EventBus
from resolvers.loyalty import earning
from resolvers.model import LedgerEntry, LedgerKind
from resolvers.store import Store
from sandboxes.demo import DemoWorld, generate

WRITERS = 50
BATCH = 50


@dataclass
class Services:
    store: Store
    config: ResolverConfig = field(default_factory=ResolverConfig)
    #: Where loyalty announces account changes (nobody listens here).
    events: EventBus = field(default_factory=EventBus)


def earn(n: int, account: str) -> LedgerEntry:
    return LedgerEntry(
        key=f"bench:{uuid.uuid4().hex}:{n}",
        account_id=account,
        points=10,
        kind=LedgerKind.EARN,
        at=datetime.now(UTC),
        source=Source("shopify"),
        order_ref=f"bench-{n}",
        rule="earn-per-unit",
        rate="1",
    )


async def writes_per_second(store: Store, count: int, writers: int, *, hot: bool) -> float:
    tag = uuid.uuid4().hex[:8]
    queue = iter(range(count))

    async def writer() -> None:
        for n in queue:
            account = f"hot-{tag}" if hot else f"acct-{tag}-{n}"
            await store.ledger.apply_ledger_entry(earn(n, account))

    start = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return count / (time.perf_counter() - start)


async def ledger_figures(label: str, store: Store, count: int) -> None:
    for writers, hot in ((1, False), (WRITERS, False), (WRITERS, True)):
        rate = await writes_per_second(store, count, writers, hot=hot)
        where = "one hot account" if hot else "distinct accounts"
        print(f"{label}: {rate:8.0f} ledger writes/s ({writers:2d} writers, {where}, {count})")


# --- the backfill -----------------------------------------------------------------------------


def members_orders(world: DemoWorld) -> list[tuple[str, list[OrderRecord]]]:
    """Each person's orders as the connectors report them (total, cumulative refunded)."""
    orders: dict[str, list[OrderRecord]] = {p.id: [] for p in world.people}
    for s in world.shopify_orders:
        if s.person_id is None:
            continue
        orders[s.person_id].append(
            OrderRecord(
                source=Source("shopify"),
                id=str(s.id),
                channel=s.channel,
                created_at=s.created_at,
                total=Money(s.total, s.currency),
                name=s.name,
                refunded=Money(s.refunded, s.currency) if s.refunds else None,
            )
        )
    for q in world.square_orders:
        if q.person_id is None:
            continue
        orders[q.person_id].append(
            OrderRecord(
                source=Source("square"),
                id=q.id,
                channel=Channel.IN_STORE,
                created_at=q.created_at,
                total=Money(q.total, q.currency),
                refunded=Money(q.refunded, q.currency) if q.refunds else None,
            )
        )
    return [(pid, found) for pid, found in orders.items() if found]


async def in_batches(
    work: Iterable[tuple[str, list[OrderRecord]]],
    step: Callable[[str, list[OrderRecord]], Awaitable[list[LedgerEntry]]],
    size: int,
) -> int:
    """``size`` members at a time; returns the entries written."""
    written = 0
    it = iter(work)
    while batch := list(itertools.islice(it, size)):
        for entries in await asyncio.gather(*(step(pid, orders) for pid, orders in batch)):
            written += len(entries)
    return written


async def backfill(
    label: str,
    store: Store,
    work: list[tuple[str, list[OrderRecord]]],
    now: datetime,
    total: int,
    size: int = BATCH,
) -> None:
    services = Services(store)

    async def step(pid: str, orders: list[OrderRecord]) -> list[LedgerEntry]:
        return await earning.accrue(services, pid, orders, now=now)

    orders = sum(len(o) for _, o in work)
    start = time.perf_counter()
    written = await in_batches(work, step, size)
    elapsed = time.perf_counter() - start
    print(
        f"{label}: backfill of {len(work):,} members' {orders:,} orders, {size} at a time: "
        f"{elapsed:.1f} s "
        f"({written:,} entries, {written / elapsed:.0f} entries/s, "
        f"{len(work) / elapsed:.0f} members/s)"
    )
    if len(work) < total:
        print(
            f"{label}:   projected for all {total:,} members at that rate: "
            f"{total / (len(work) / elapsed) / 60:.1f} min"
        )
    start = time.perf_counter()
    again = await in_batches(work, step, size)
    replay = time.perf_counter() - start
    print(
        f"{label}:   the same backfill again (every order already earned): {replay:.1f} s, "
        f"{again} entries written"
    )


async def main(people: int, memory_writes: int, secantus_writes: int, sample: int) -> None:
    started = time.perf_counter()
    world = generate(people=people, seed=7)
    work = members_orders(world)
    refunded = sum(1 for _, orders in work for o in orders if o.refunded is not None)
    print(
        f"dataset: {people:,} people, {len(work):,} with orders, "
        f"{sum(len(o) for _, o in work):,} orders ({refunded:,} refunded), "
        f"generated in {time.perf_counter() - started:.1f} s"
    )
    now = world.now

    memory = MemoryStore()
    await ledger_figures("memory", memory, memory_writes)
    await backfill("memory", MemoryStore(), work, now, len(work))

    with secantus() as uri:
        store = MongoStore(uri, "bench_loyalty_writes")
        await store.init()
        await ledger_figures("SecantusDB", store, secantus_writes)
        await store.close()
        # 50 members' accrues at once queue on SecantusDB past the gateway's default 2 s
        # operation timeout (ExecutionTimeout): the backfill gets the tests' 20 s.
        roomy = MongoTimeouts(server_selection=5.0, connect=5.0, operation=20.0)
        store = MongoStore(uri, "bench_loyalty_backfill", timeouts=roomy)
        await store.init()
        await backfill("SecantusDB", store, work[:sample], now, len(work))
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--memory-writes", type=int, default=20_000)
    parser.add_argument("--secantus-writes", type=int, default=1_000)
    parser.add_argument(
        "--secantus-members", type=int, default=1_000, help="members of the SecantusDB backfill"
    )
    args = parser.parse_args()
    asyncio.run(main(args.people, args.memory_writes, args.secantus_writes, args.secantus_members))
