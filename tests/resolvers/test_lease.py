"""A lease held for a block of work: renewed while the work runs, released after, and
noticed when another holder took it over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.store import MemoryStore
from resolvers.lease import Lease


def real_clock() -> datetime:
    return datetime.now(UTC)


async def test_the_lease_is_renewed_while_held_and_released_after() -> None:
    store = MemoryStore()
    # A short lease, so its renewal comes soon; the test awaits the renewal, not the time.
    ttl = timedelta(milliseconds=300)
    lease = Lease(store.leases, "sync", "a", ttl=ttl, clock=real_clock)
    assert await lease.acquire()
    async with lease:
        await lease.renewed.wait()
        assert not await store.leases.take_lease("sync", "b", now=real_clock(), ttl=ttl)
    assert not lease.held
    assert await store.leases.take_lease("sync", "b", now=real_clock(), ttl=ttl)


async def test_a_lease_taken_over_by_another_holder_is_lost() -> None:
    store = MemoryStore()
    ttl = timedelta(milliseconds=60)
    lease = Lease(store.leases, "sync", "a", ttl=ttl, clock=real_clock)
    assert await lease.acquire()
    # Another replica judges it expired (its clock is ahead) and takes it.
    assert await store.leases.take_lease(
        "sync", "b", now=real_clock() + ttl * 2, ttl=timedelta(hours=1)
    )
    async with lease:
        await lease.lost.wait()
        assert not lease.held
    # Leaving the block does not release what is now b's.
    assert not await store.leases.take_lease("sync", "c", now=real_clock(), ttl=ttl)
