"""Throttling end to end: the connector's pacing against the sandbox's Shopify-like bucket.

These run the sandbox at Shopify's Standard restore rate (100 points/s) in real time, because
the bullet is about real-time behaviour; each keeps the excess demand to a second or two.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from connectors.errors import UpstreamAuthError, UpstreamBadResponse, UpstreamRateLimited
from connectors.metrics import RequestCounter
from connectors.shopify import queries
from connectors.shopify.client import QueryCostExceeded
from sandboxes.base.faults import FAULTS, Fault, FaultMode
from sandboxes.demo import DemoWorld
from tests.connectors.shopify.conftest import API, TOKEN, MakeConnector, StartShop

SHARED = {"copy_world": False}


def gid(id_: int) -> str:
    return f"gid://shopify/Customer/{id_}"


async def test_fifty_concurrent_callers_at_100_points_per_second_are_never_throttled(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(big_world, restore_rate=100.0, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    ids = [gid(c.id) for c in big_world.shopify_customers[:300]]
    groups = [ids[i : i + 6] for i in range(0, 300, 6)]
    assert len(groups) == 50
    demand = sum(connector.client.cost(queries.CUSTOMERS_BY_IDS, {"ids": g}) for g in groups)
    assert demand > shop.bucket.maximum_available  # more than one bucketful: pacing is needed

    results = await asyncio.gather(*(connector.get_customers(g) for g in groups))

    for group, found in zip(groups, results, strict=True):
        assert set(found) == set(group)
    assert shop.bucket.counts["throttled"] == 0
    assert connector.client.throttled == 0
    assert counter.outcomes("shopify") == {"200": 50}


async def test_the_same_burst_unpaced_is_throttled_by_the_sandbox(
    big_world: DemoWorld, start_shop: StartShop
) -> None:
    """Shows the test above is meaningful: without the client's bucket, callers see
    ``THROTTLED``."""
    shop = await start_shop(big_world, restore_rate=100.0, **SHARED)
    ids = [gid(c.id) for c in big_world.shopify_customers[:300]]
    async with aiohttp.ClientSession() as session:

        async def raw(group: list[str]) -> dict[str, object]:
            async with session.post(
                f"{shop.url}{API}",
                json={"query": queries.CUSTOMERS_BY_IDS, "variables": {"ids": group}},
                headers={"X-Shopify-Access-Token": TOKEN},
            ) as response:
                return await response.json()

        answers = await asyncio.gather(*(raw(ids[i : i + 6]) for i in range(0, 300, 6)))
    throttled = [a for a in answers if "errors" in a]
    assert throttled
    assert all(a["errors"][0]["extensions"]["code"] == "THROTTLED" for a in throttled)  # type: ignore[index]


@pytest.mark.parametrize("status", [200, 429])
async def test_a_throttled_call_waits_for_the_refill_and_succeeds(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector, status: int
) -> None:
    shop = await start_shop(world, restore_rate=100.0, throttled_status=status, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    ids = [gid(c.id) for c in world.shopify_customers[:25]]
    await connector.get_customers(ids[:1])  # the client learns the bucket: ~1000 available
    # Someone else empties the shop's bucket: the client's estimate is now wrong.
    shop.bucket.configure({"currentlyAvailable": 0})

    found = await connector.get_customers(ids)

    assert set(found) == set(ids)
    assert shop.bucket.counts["throttled"] == 1
    assert connector.client.throttled == 1
    expected = {"200": 3} if status == 200 else {"200": 2, "429": 1}
    assert counter.outcomes("shopify", "customers_by_ids") == expected


async def test_a_call_that_cannot_get_its_points_before_its_deadline_fails_fast(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, restore_rate=10.0, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter, throttle_deadline=0.5)
    ids = [gid(c.id) for c in world.shopify_customers[:25]]
    await connector.get_customers(ids[:1])
    shop.bucket.configure({"currentlyAvailable": 0})

    with pytest.raises(UpstreamRateLimited) as raised:
        await connector.get_customers(ids)  # 100 points at 10/s: 10 s > 0.5 s deadline

    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 0.5
    assert counter.count("shopify", "customers_by_ids") == 2  # the throttled try, no more


async def test_a_query_over_1000_points_is_refused_before_sending(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    with pytest.raises(QueryCostExceeded):
        await connector.client.query(
            queries.SEARCH_ORDERS,
            {"query": "", "first": 26, "lineItems": 10},
            operation="too_big",
        )
    assert counter.count("shopify") == 0
    assert shop.requests() == 0


async def test_graphql_errors_and_bad_tokens_are_classified(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    with pytest.raises(UpstreamBadResponse):  # the sandbox answers 200 with errors
        await connector.client.query(
            queries.SEARCH_CUSTOMERS,
            {"query": "", "first": 5, "after": "not-a-cursor"},
            operation="bad_cursor",
        )
    with pytest.raises(UpstreamBadResponse):  # a document the client cannot even cost
        await connector.client.query("query { shop { name } }", operation="unknown_field")
    wrong = await make_connector(shop, access_token="shpat_wrong")
    with pytest.raises(UpstreamAuthError):
        await wrong.get_customers([gid(world.shopify_customers[0].id)])


async def test_server_errors_are_retried_by_the_shared_http_policy(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(
        shop, counter=counter, http={"backoff_base": 0.01, "backoff_max": 0.02}
    )
    shop.app[FAULTS].add(Fault("graphql", FaultMode.STATUS_503, count=1))
    found = await connector.get_customers([gid(world.shopify_customers[0].id)])
    assert len(found) == 1
    assert counter.outcomes("shopify") == {"503": 1, "200": 1}
    assert counter.retries("shopify") == 1


async def test_a_batch_larger_than_the_bucket_is_paced_call_by_call_and_never_fails(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    """With a 400-point bucket refilling at 200/s, 300 customers are three 400-point calls.
    Started together, the third would wait 4 s for its points and miss a 3 s deadline;
    issued one after the other, each waits at most 2 s within its own deadline."""
    shop = await start_shop(big_world, maximum_available=400.0, restore_rate=200.0, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter, throttle_deadline=3.0)
    ids = [gid(c.id) for c in big_world.shopify_customers[:300]]
    await connector.get_customers(ids[:1])  # learns the bucket's size

    found = await connector.get_customers(ids)

    assert set(found) == set(ids)
    assert counter.outcomes("shopify", "customers_by_ids") == {"200": 4}
    assert shop.bucket.counts["throttled"] == 0
