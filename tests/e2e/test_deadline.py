"""The request deadline over the whole stack: while Shopify hangs (or asks for a long wait),
a query answers at its deadline with ``UPSTREAM_TIMEOUT`` for the customer that needed
Shopify and data for everything else, and no retry runs past the deadline of the work.

The stack runs with short deadlines: 2 s for a query, 3 s for a profile rebuild (which goes
on after the request that asked for it has answered); long enough for the cached and the
healthy parts to answer on a loaded CI machine, short next to 40 s of retries. The per-attempt
timeout keeps its 10 s default, so a deadline, not an attempt timeout, is what ends each
Shopify call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.records import Source
from resolvers.customers.profile import from_body
from tests.e2e.conftest import Demo, boot

QUERY = """
query($cold: ID!, $warm: ID!) {
  health { store { reachable } connectors { name } }
  cold: customer(id: $cold) { id displayName }
  warm: customer(id: $warm) { id displayName cache { stale } }
}
"""


@pytest.fixture
async def tight_demo() -> AsyncIterator[Demo]:
    async for stack in boot(query_deadline_seconds=2.0, refresh_deadline_seconds=3.0):
        yield stack


async def shopify_people(demo: Demo, count: int) -> list[str]:
    """Profile ids of ``count`` people known to Shopify and Square, each with a cached
    profile."""
    store = demo.app.state.services.store
    keys = [
        (Source("shopify"), f"gid://shopify/Customer/{c.id}") for c in demo.world.shopify_customers
    ]
    found = await store.identities.get_identities(keys)
    candidates = sorted({identity.profile_id for identity in found.values()})
    identities = await store.identities.identities_of(candidates)
    ids = [
        pid
        for pid in candidates
        if {Source("shopify"), Source("square")} <= {i.source for i in identities[pid]}
    ][:count]
    assert len(ids) == count
    assert set(await store.profiles.get_profiles(ids)) == set(ids)
    return ids


async def fault(demo: Demo, **spec: Any) -> None:
    await demo.control("shopify", "POST", "/_sandbox/faults", json={"route": "*", **spec})


async def test_a_hanging_shopify_costs_the_cold_customer_its_answer_not_the_request(
    tight_demo: Demo,
) -> None:
    demo = tight_demo
    store = demo.app.state.services.store
    counter = demo.app.state.counter
    cold, warm = await shopify_people(demo, 2)
    assert await store.profiles.delete_profile(cold)  # never built: it needs every source now
    await fault(demo, mode="hang")
    bundles = counter.count("shopify", "customer_bundle")

    body = await demo.gql(QUERY, variables={"cold": cold, "warm": warm})

    data = body["data"]
    assert data["health"]["store"]["reachable"] is True
    assert {c["name"] for c in data["health"]["connectors"]} == {"shopify", "square", "klaviyo"}
    assert data["warm"]["id"] == warm  # cached: served as if nothing were wrong
    assert data["warm"]["cache"]["stale"] is False
    assert data["cold"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert error["extensions"]["customerId"] == cold
    assert error["path"] == ["cold"]

    # The rebuild went on after the answer, until its own deadline: one Shopify attempt, cut
    # at that deadline, and no retry (a 10 s attempt timeout and 3 retries would be 40 s).
    await demo.app.state.services.customers.wait_idle()
    assert counter.count("shopify", "customer_bundle") - bundles == 1
    assert counter.retries("shopify", "customer_bundle") == 0
    assert counter.outcomes("shopify", "customer_bundle").get("deadline") == 1
    # What Square and Klaviyo said is cached, and the profile names the source that timed out.
    built = (await store.profiles.get_profiles([cold]))[cold]
    statuses = {s.source: s for s in from_body(built.body).sources}
    assert statuses[Source("shopify")].code == "UPSTREAM_TIMEOUT"
    assert statuses[Source("square")].ok


async def test_a_429_asking_to_wait_past_the_deadline_is_not_retried(tight_demo: Demo) -> None:
    demo = tight_demo
    store = demo.app.state.services.store
    counter = demo.app.state.counter
    cold, warm = await shopify_people(demo, 2)
    assert await store.profiles.delete_profile(cold)
    # One throttled answer asking for 20 s: a retry would succeed, but only after the deadline.
    await fault(demo, mode="429", retry_after=20, count=1)
    bundles = counter.count("shopify", "customer_bundle")

    body = await demo.gql(QUERY, variables={"cold": cold, "warm": warm})

    assert counter.count("shopify", "customer_bundle") - bundles == 1  # no retry scheduled
    assert body["data"]["warm"]["id"] == warm
    # Built from Square and Klaviyo, with an error naming the source that could not answer.
    assert body["data"]["cold"]["id"] == cold
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert error["extensions"]["source"] == "shopify"
    assert error["path"] == ["cold"]
