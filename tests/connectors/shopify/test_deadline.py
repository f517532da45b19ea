"""The Shopify client waits for its cost bucket and for ``THROTTLED`` answers only while the
work's deadline allows: a wait that would pass it is not taken (``UPSTREAM_TIMEOUT``)."""

from __future__ import annotations

import pytest

from connectors import deadline
from connectors.errors import UpstreamRateLimited, UpstreamTimeout
from connectors.metrics import RequestCounter
from sandboxes.base.faults import FAULTS, Fault, FaultMode
from sandboxes.demo import DemoWorld
from tests.connectors.shopify.conftest import MakeConnector, StartShop

SHARED = {"copy_world": False}


def gid(id_: int) -> str:
    return f"gid://shopify/Customer/{id_}"


async def test_a_429_whose_retry_after_passes_the_deadline_is_not_waited_for(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)  # throttle_deadline: 30 s
    shop.app[FAULTS].add(Fault("graphql", FaultMode.STATUS_429, retry_after=20, count=1))

    with deadline.within(2.0), pytest.raises(UpstreamTimeout) as raised:
        await connector.get_customers([gid(world.shopify_customers[0].id)])

    assert raised.value.code == "UPSTREAM_TIMEOUT"
    assert connector.client.throttled == 1
    assert counter.count("shopify", "customers_by_ids") == 1  # no retry after the 429


async def test_a_bucket_wait_past_the_deadline_is_a_timeout_not_a_rate_limit(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, restore_rate=10.0, **SHARED)
    counter = RequestCounter()
    patient = await make_connector(shop, counter=counter, throttle_deadline=30.0)
    hasty = await make_connector(shop, throttle_deadline=0.5)
    ids = [gid(c.id) for c in world.shopify_customers[:25]]
    for connector in (patient, hasty):
        await connector.get_customers(ids[:1])  # the bucket learns the shop's figures
    shop.bucket.configure({"currentlyAvailable": 0})

    with deadline.within(0.5), pytest.raises(UpstreamTimeout):
        await patient.get_customers(ids)  # 100 points at 10/s: 10 s, inside 30 s, past 0.5 s
    assert counter.count("shopify", "customers_by_ids") == 2  # the learning call, the throttled try

    # Shopify's own pace running out first is still a rate limit.
    with deadline.within(5.0), pytest.raises(UpstreamRateLimited):
        await hasty.get_customers(ids)
