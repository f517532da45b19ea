"""The :class:`~resolvers.store.LeaseStore` contract: one holder at a time, on every backend
(see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from resolvers.store import LeaseStore
from tests.store.builders import T0


async def test_a_lease_has_one_holder_until_it_expires(leases: LeaseStore) -> None:
    ttl = timedelta(seconds=60)
    assert await leases.take_lease("sync", "a", now=T0, ttl=ttl) is True
    assert await leases.take_lease("sync", "b", now=T0 + timedelta(seconds=59), ttl=ttl) is False
    # The holder renews; the renewal moves the expiry on.
    assert await leases.take_lease("sync", "a", now=T0 + timedelta(seconds=50), ttl=ttl) is True
    assert await leases.take_lease("sync", "b", now=T0 + timedelta(seconds=100), ttl=ttl) is False
    # Expired: anyone may take it, and then the old holder may not.
    assert await leases.take_lease("sync", "b", now=T0 + timedelta(seconds=110), ttl=ttl) is True
    assert await leases.take_lease("sync", "a", now=T0 + timedelta(seconds=111), ttl=ttl) is False
    # Another lease is independent.
    assert await leases.take_lease("other", "a", now=T0, ttl=ttl) is True


async def test_a_lease_is_released_only_by_its_holder(leases: LeaseStore) -> None:
    ttl = timedelta(seconds=60)
    assert await leases.take_lease("sync", "a", now=T0, ttl=ttl) is True
    await leases.release_lease("sync", "b")
    assert await leases.take_lease("sync", "b", now=T0, ttl=ttl) is False
    await leases.release_lease("sync", "a")
    assert await leases.take_lease("sync", "b", now=T0, ttl=ttl) is True


async def test_racing_replicas_get_one_lease(leases: LeaseStore) -> None:
    ttl = timedelta(seconds=60)
    first = await asyncio.gather(
        *(leases.take_lease("sync", f"r{i}", now=T0, ttl=ttl) for i in range(10))
    )
    assert first.count(True) == 1
    # And again once it has expired: the race is for an existing document this time.
    later = T0 + timedelta(minutes=5)
    second = await asyncio.gather(
        *(leases.take_lease("sync", f"s{i}", now=later, ttl=ttl) for i in range(10))
    )
    assert second.count(True) == 1
