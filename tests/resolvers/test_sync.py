"""Incremental customer sync: each source read since its own checkpoint, checkpoints on the
vendor's clock that never skip a change made during a pass, failures read again next time,
and one run at a time (a store lease), released even when a run is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.records import CustomerRecord, MarketingProfile, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.context import ResolverConfig, Services
from resolvers.customers.sync import (
    LEASE,
    LEASE_TTL,
    source_checkpoint,
    sync_customers,
)
from resolvers.events import EventBus
from tests.resolvers.fakes import FakeCommerce, FakeMarketing

T0 = datetime(2026, 10, 1, tzinfo=UTC)
#: Our clock while the tests run: after every record they make.
NOW = T0 + timedelta(days=30)
OVERLAP = timedelta(minutes=2)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def customer(source: Source, cid: str, email: str, updated: datetime) -> CustomerRecord:
    return CustomerRecord(source, cid, "Ann", cid, (email,), updated_at=updated)


def subscriber(pid: str, email: str, updated: datetime) -> MarketingProfile:
    return MarketingProfile(Source("klaviyo"), pid, email=email, updated_at=updated)


@pytest.fixture
def shopify() -> FakeCommerce:
    return FakeCommerce(
        Source("shopify"),
        customers=[
            customer(Source("shopify"), f"S{i}", f"s{i}@example.com", at(i)) for i in range(5)
        ],
    )


@pytest.fixture
def square() -> FakeCommerce:
    return FakeCommerce(
        Source("square"),
        customers=[
            customer(Source("square"), f"Q{i}", f"q{i}@example.com", at(i)) for i in range(8)
        ],
    )


@pytest.fixture
def klaviyo() -> FakeMarketing:
    return FakeMarketing(
        profiles=[subscriber(f"K{i}", f"k{i}@example.com", at(i)) for i in range(6)],
    )


@pytest.fixture
def services(shopify: FakeCommerce, square: FakeCommerce, klaviyo: FakeMarketing) -> Services:
    return compose_services(
        store=MemoryStore(),
        connectors=ConnectorSet([shopify, square, klaviyo]),  # type: ignore[list-item]
        events=EventBus(),
        config=ResolverConfig(),
    )


def clock() -> datetime:
    return NOW


async def mark(services: Services, source: str) -> datetime | None:
    value = await services.store.checkpoints.get_checkpoint(source_checkpoint(source))
    return datetime.fromisoformat(value["updated_at"]) if value else None


async def test_a_backfill_sets_each_source_checkpoint_to_its_newest_record(
    services: Services,
) -> None:
    summary = await sync_customers(services, clock=clock)
    assert summary.since == {"shopify": None, "square": None, "klaviyo": None}
    assert await mark(services, "shopify") == at(4)
    assert await mark(services, "square") == at(7)
    assert await mark(services, "klaviyo") == at(5)


async def test_an_incremental_pass_reads_each_source_since_its_own_checkpoint(
    services: Services, klaviyo: FakeMarketing
) -> None:
    await sync_customers(services, clock=clock)
    new = subscriber("K-new", "new@example.com", at(30))
    klaviyo.profiles_by_id[new.id] = new

    summary = await sync_customers(services, incremental=True, overlap=OVERLAP, clock=clock)

    assert summary.since == {
        "shopify": at(4) - OVERLAP,
        "square": at(7) - OVERLAP,
        "klaviyo": at(5) - OVERLAP,
    }
    # Only what changed since each checkpoint: the newest record of each source again (it is
    # inside the overlap) and the new subscriber; not the 5 + 8 + 6 a backfill reads.
    assert summary.records == {"shopify": 1, "square": 1, "klaviyo": 2}
    assert summary.profiles_built == 4
    assert await mark(services, "klaviyo") == at(30)
    assert await mark(services, "shopify") == at(4)
    found = await services.store.identities.get_identities([(Source("klaviyo"), "K-new")])
    assert (Source("klaviyo"), "K-new") in found


async def test_a_pass_without_checkpoints_reads_everything(services: Services) -> None:
    summary = await sync_customers(services, incremental=True, clock=clock)
    assert summary.records == {"shopify": 5, "square": 8, "klaviyo": 6}
    assert await mark(services, "square") == at(7)


class ChangingSource(FakeCommerce):
    """Square-like: pages in creation order. Between its two pages two customers change: A
    (already read, on page one) and then B (on page two, read in its new state)."""

    def __init__(self, changed_a: datetime, changed_b: datetime) -> None:
        super().__init__(
            Source("square"),
            customers=[
                customer(Source("square"), "A", "a@example.com", at(1)),
                customer(Source("square"), "B", "b@example.com", at(2)),
            ],
        )
        self.changed = (changed_a, changed_b)
        self.change_during_next_pass = False

    async def list_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[CustomerRecord]]:
        await self._call("list_customers")

        def page(cid: str) -> list[CustomerRecord]:
            record = self.customers[cid]
            due = updated_since is None or (record.updated_at or T0) >= updated_since
            return [record] if due else []

        yield page("A")
        if self.change_during_next_pass:
            self.change_during_next_pass = False
            self.customers["A"] = customer(
                Source("square"), "A", "a.new@example.com", self.changed[0]
            )
            self.customers["B"] = customer(Source("square"), "B", "b@example.com", self.changed[1])
        yield page("B")


async def test_a_change_made_during_a_pass_is_read_by_the_next(services: Services) -> None:
    # The pass starts at NOW; A changes a minute later, B ten minutes later: the newest
    # record read (B) is newer than A's unread change by far more than the overlap.
    source = ChangingSource(NOW + timedelta(minutes=1), NOW + timedelta(minutes=10))
    services.connectors = ConnectorSet([source])  # type: ignore[list-item]
    await sync_customers(services, clock=clock)
    source.change_during_next_pass = True
    during = await sync_customers(services, incremental=True, overlap=OVERLAP, clock=clock)
    assert during.records == {"square": 1}  # B only; A's page was read before it changed
    # Not B's stamp: the checkpoint stops at the pass's start.
    assert await mark(services, "square") == NOW

    after = await sync_customers(services, incremental=True, overlap=OVERLAP, clock=clock)

    assert after.records == {"square": 2}
    identity = (await services.store.identities.get_identities([(Source("square"), "A")]))[
        (Source("square"), "A")
    ]
    assert identity.emails == ("a.new@example.com",)


async def test_a_failed_source_keeps_its_checkpoint_and_is_read_again(
    services: Services, klaviyo: FakeMarketing
) -> None:
    await sync_customers(services, clock=clock)
    new = subscriber("K-new", "new@example.com", at(30))
    klaviyo.profiles_by_id[new.id] = new
    klaviyo.failing = True

    failed = await sync_customers(services, incremental=True, overlap=OVERLAP, clock=clock)
    assert failed.failed_sources == {"klaviyo": "UPSTREAM_UNAVAILABLE"}
    assert await mark(services, "klaviyo") == at(5)
    klaviyo.failing = False
    retried = await sync_customers(services, incremental=True, overlap=OVERLAP, clock=clock)

    assert retried.failed_sources == {}
    assert retried.records["klaviyo"] == 2
    assert await mark(services, "klaviyo") == at(30)


async def test_a_since_later_than_a_checkpoint_does_not_move_it(
    services: Services, shopify: FakeCommerce
) -> None:
    await sync_customers(services, clock=clock)
    shopify.customers["S9"] = customer(Source("shopify"), "S9", "s9@example.com", at(40))
    # Records between the checkpoint (hour 4) and hour 20 were not read by this run.
    summary = await sync_customers(services, since=at(20), clock=clock)
    assert summary.records["shopify"] == 1
    assert await mark(services, "shopify") == at(4)


async def test_a_second_run_finds_the_lease_taken_and_does_nothing(
    services: Services, shopify: FakeCommerce, klaviyo: FakeMarketing
) -> None:
    shopify.gate = asyncio.Event()
    first = asyncio.create_task(sync_customers(services, holder="replica-1", clock=clock))
    await shopify.entered.wait()
    calls_before = sum(klaviyo.calls.values())

    second = await sync_customers(services, incremental=True, holder="replica-2", clock=clock)

    assert second.busy
    assert second.lines() == ["skipped: another customer sync is running"]
    assert sum(klaviyo.calls.values()) == calls_before  # the busy run asked nobody anything
    shopify.gate.set()
    assert not (await first).busy
    third = await sync_customers(services, incremental=True, holder="replica-2", clock=clock)
    assert not third.busy


async def test_two_runs_in_one_process_exclude_each_other_too(
    services: Services, shopify: FakeCommerce
) -> None:
    shopify.gate = asyncio.Event()
    first = asyncio.create_task(sync_customers(services, clock=clock))
    await shopify.entered.wait()
    second = await sync_customers(services, clock=clock)
    assert second.busy
    shopify.gate.set()
    assert not (await first).busy


async def test_a_cancelled_run_releases_the_lease(
    services: Services, shopify: FakeCommerce
) -> None:
    shopify.gate = asyncio.Event()
    run = asyncio.create_task(sync_customers(services, holder="replica-1", clock=clock))
    await shopify.entered.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert await services.store.leases.take_lease(LEASE, "replica-2", now=NOW, ttl=LEASE_TTL)


async def test_incremental_takes_no_since(services: Services) -> None:
    with pytest.raises(ValueError, match="incremental"):
        await sync_customers(services, incremental=True, since=T0)
