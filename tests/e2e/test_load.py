"""A burst larger than the vendors' connection pools, over the whole stack: every request is
answered and no circuit opens, because waiting for a pooled connection is local queueing, not
a vendor failure. (The defect: with the pool wait inside the connect timeout, 50 concurrent
360s failed every request and opened Shopify's circuit.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from connectors.records import Source
from tests.e2e.conftest import Demo, boot

#: Cold 360s at once: each asks Square for customers and orders, so 60 Square calls, more than
#: the old shared pool of 50 connections, and six times Square's own pool of 10.
BURST = 30

QUERY = """
query($id: ID!) {
  customer(id: $id) { id stats { orderCount } cache { sources { source ok code } } }
}
"""


@pytest.fixture
async def pooled_demo() -> AsyncIterator[Demo]:
    """Default pools, and a connect timeout (200 ms: a loopback connect needs far less, even on
    a busy event loop) shorter than the queue the burst builds in front of them."""
    async for stack in boot(http_connect_timeout=0.2):
        yield stack


async def square_people(demo: Demo, count: int) -> list[str]:
    """Profile ids of ``count`` people Square knows, each with a cached profile."""
    store = demo.app.state.services.store
    found = await store.identities.get_identities(
        [(Source("square"), c.id) for c in demo.world.square_customers]
    )
    ids = sorted({identity.profile_id for identity in found.values()})[:count]
    assert len(ids) == count
    assert set(await store.profiles.get_profiles(ids)) == set(ids)
    return ids


async def test_a_burst_of_cold_360s_larger_than_the_pools_all_succeed(pooled_demo: Demo) -> None:
    demo = pooled_demo
    store = demo.app.state.services.store
    # A bucket big enough that Shopify's pacing does not serialise the burst: the pools must.
    roomy = {"maximumAvailable": 1e6, "restoreRate": 1e6, "currentlyAvailable": 1e6}
    await demo.control("shopify", "POST", "/_sandbox/throttle", json=roomy)
    warm_up, *people = await square_people(demo, BURST + 1)
    assert await store.profiles.delete_profile(warm_up)
    await demo.gql(QUERY, variables={"id": warm_up})  # the client learns the bigger bucket
    # Square's answers take 300 ms: most of the burst waits longer than the connect timeout
    # for a connection (six waves through a pool of 10).
    latency = {"route": "*", "mode": "latency", "latency_ms": 300}
    await demo.control("square", "POST", "/_sandbox/faults", json=latency)
    for pid in people:
        assert await store.profiles.delete_profile(pid)
    counter = demo.app.state.counter
    counter.reset()

    bodies = await asyncio.gather(*(demo.gql(QUERY, variables={"id": pid}) for pid in people))

    for pid, body in zip(people, bodies, strict=True):
        assert "errors" not in body, body
        assert body["data"]["customer"]["id"] == pid
        assert all(s["ok"] for s in body["data"]["customer"]["cache"]["sources"])
    outcomes = counter.outcomes()
    # No timeout, no connection error (Klaviyo's 202s are the loyalty property sync's bulk
    # jobs for the points the start-up sync earned).
    assert set(outcomes) <= {"200", "202"}, outcomes
    health = await demo.gql("{ health { connectors { name circuit } } }")
    assert {c["circuit"] for c in health["data"]["health"]["connectors"]} == {"CLOSED"}
