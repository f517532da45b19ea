"""``/metrics`` on the demo stack, read with prometheus_client's own text parser: named
operations with their outcome and latency, an upstream that fails counted by its status,
webhook deliveries by outcome, circuit states and live subscriptions; pickup-hold and
loyalty-ledger outcomes and the events delivered to subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from connectors.records import Source
from resolvers.model import StockLevel
from resolvers.stock.levels import store_level
from tests.e2e.conftest import Demo, boot
from tests.e2e.ws import connect
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Demo]:
    async for demo in boot():
        yield demo


async def scrape(demo: Demo) -> Samples:
    async with demo.http.get(f"{demo.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operations_are_counted_by_name_and_outcome(stack: Demo) -> None:
    before = await scrape(stack)
    await stack.gql("query WhoAmI { viewer { role } }")
    big = await stack.gql('query Big { customerLookup(query: "a", first: 100000) { id } }')
    assert big["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    after = await scrape(stack)
    ok = {"operation": "WhoAmI", "type": "query", "outcome": "ok"}
    name = "omnigate_graphql_operations_total"
    assert value(after, name, **ok) == value(before, name, **ok) + 1
    histogram = "omnigate_graphql_operation_duration_seconds_count"
    assert value(after, histogram, operation="WhoAmI", type="query") >= 1
    refused = {"operation": "Big", "type": "query", "outcome": "BAD_USER_INPUT"}
    assert value(after, name, **refused) == value(before, name, **refused) + 1


async def test_a_failing_upstream_shows_in_the_upstream_error_counter(stack: Demo) -> None:
    store = stack.app.state.services.store
    found = await store.identities.get_identities(
        [(Source("square"), c.id) for c in stack.world.square_customers[:5]]
    )
    profile_id = sorted({i.profile_id for i in found.values()})[0]
    await store.profiles.delete_profile(profile_id)  # cold: the next read asks the vendors
    fault = {"route": "*", "mode": "503", "count": 2}
    await stack.control("square", "POST", "/_sandbox/faults", json=fault)
    before = await scrape(stack)
    await stack.gql(
        "query Cold($id: ID!) { customer(id: $id) { id } }", variables={"id": profile_id}
    )
    after = await scrape(stack)
    failed = sum(
        v - before.get(k, 0.0)
        for k, v in after.items()
        if k[0] == "omnigate_upstream_requests_total"
        and ("connector", "square") in k[1]
        and ("outcome", "503") in k[1]
    )
    assert failed >= 1
    retried = sum(
        v - before.get(k, 0.0)
        for k, v in after.items()
        if k[0] == "omnigate_upstream_retries_total" and ("connector", "square") in k[1]
    )
    assert retried >= 1
    circuits = {
        dict(k[1])["connector"]: dict(k[1])["state"]
        for k, v in after.items()
        if k[0] == "omnigate_circuit_state" and v == 1
    }
    assert set(circuits) == {"shopify", "square", "klaviyo"}


async def test_webhook_deliveries_are_counted_by_outcome(stack: Demo) -> None:
    name = "omnigate_webhook_deliveries_total"
    before = await scrape(stack)
    customer = next(c for c in stack.world.shopify_customers if c.email)
    sale = await stack.control(
        "shopify",
        "POST",
        "/_sandbox/sales",
        json={
            "source_name": "web",
            "customer_id": customer.id,
            "lines": [{"sku": stack.world.stock[0].sku}],
        },
    )
    sent = len(sale["deliveries"])
    await stack.control("shopify", "POST", "/_sandbox/webhooks/redeliver", json={})
    async with stack.http.post(
        f"{stack.url}/webhooks/shopify", data=b"{}", headers={"X-Shopify-Hmac-Sha256": "bad"}
    ) as resp:
        assert resp.status == 401
    after = await scrape(stack)

    def delta(outcome: str) -> float:
        return value(after, name, vendor="shopify", outcome=outcome) - value(
            before, name, vendor="shopify", outcome=outcome
        )

    assert delta("accepted") == sent
    assert delta("duplicate") == 1
    assert delta("rejected") == 1
    # The loyalty property sync listens on the event bus: a live subscriber.
    assert value(after, "omnigate_subscriptions_active", topic="loyalty.account") >= 1


async def test_profile_cache_hits_and_misses_are_counted(stack: Demo) -> None:
    store = stack.app.state.services.store
    customer = stack.world.shopify_customers[3]
    key = (Source("shopify"), f"gid://shopify/Customer/{customer.id}")
    profile_id = (await store.identities.get_identities([key]))[key].profile_id
    await store.profiles.delete_profile(profile_id)
    query = "query Read($id: ID!) { customer(id: $id) { id } }"
    before = await scrape(stack)
    await stack.gql(query, variables={"id": profile_id})  # built now: a miss
    await stack.gql(query, variables={"id": profile_id})  # then cached and fresh: a hit
    after = await scrape(stack)
    for result in ("miss", "hit"):
        name = "omnigate_profile_cache_total"
        assert value(after, name, result=result) >= value(before, name, result=result) + 1


HOLD = """mutation($input: CreatePickupHoldInput!) { createPickupHold(input: $input) { id } }"""
LIVE = """subscription($skus: [String!]!) {
  stockChanged(skus: $skus) { cause level { sku held } }
}"""


async def test_holds_redemptions_and_delivered_events_are_counted(stack: Demo) -> None:
    services = stack.app.state.services
    # A store only Shopify counts: its level is the one the hold is placed against.
    store = next(
        loc for loc in stack.world.stores if loc.pickup_enabled and not loc.square_location_id
    )
    location, sku = f"shopify:{store.shopify_location_id}", "METRICS-HOLD-1"
    level = StockLevel(sku, location, {"available": 2}, datetime.now(UTC), source=Source("shopify"))
    await store_level(services, level, cause="webhook")
    member = sorted(
        p.id for p in await services.store.profiles.find_profiles(name_prefix="a", limit=5)
    )[0]
    before = await scrape(stack)
    async with connect(stack.url, token="demo-storefront") as client:
        listening = services.events.subscriber_count("stock")
        live = await client.subscribe(LIVE, {"skus": [sku]})
        await asyncio.wait_for(services.events.subscribers("stock", listening + 1), 10)

        async def hold(**input: Any) -> dict[str, Any]:
            variables = {"input": {"sku": sku, "locationId": location, **input}}
            return await stack.gql(HOLD, variables=variables)

        made = await hold(quantity=2)
        assert "errors" not in made, made
        placed = made["data"]["createPickupHold"]["id"]
        assert codes(await hold(quantity=1)) == ["INSUFFICIENT_STOCK"]
        assert codes(await hold(quantity=1, sku="NO-SUCH-SKU")) == ["UNKNOWN_SKU"]
        released = await stack.gql(
            "mutation($id: ID!) { releasePickupHold(id: $id) { status } }",
            variables={"id": placed},
        )
        assert released["data"]["releasePickupHold"]["status"] == "RELEASED"
        seen = [await live.data("stockChanged") for _ in range(2)]
    assert [e["level"]["held"] for e in seen] == [2, 0]

    adjust = 'mutation($id: ID!) { adjustPoints(customerId: $id, points: 50, reason: "m") { id } }'
    assert "errors" not in await stack.gql(adjust, variables={"id": member})
    redeem = """mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { id } }"""
    spend = {"input": {"customerId": member, "points": 20, "idempotencyKey": "metrics-1"}}
    for _ in range(2):  # the till retried: a duplicate
        assert "errors" not in await stack.gql(redeem, variables=spend)
    assert codes(
        await stack.gql(
            redeem, variables={"input": {**spend["input"], "points": 999, "idempotencyKey": "m2"}}
        )
    ) == ["INSUFFICIENT_POINTS"]
    after = await scrape(stack)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    holds = "omnigate_pickup_holds_total"
    assert delta(holds, outcome="placed", reason="") == 1
    assert delta(holds, outcome="refused", reason="INSUFFICIENT_STOCK") == 1
    assert delta(holds, outcome="refused", reason="UNKNOWN_SKU") == 1
    assert delta(holds, outcome="released", reason="") == 1
    ledger = "omnigate_loyalty_ledger_entries_total"
    assert delta(ledger, kind="adjust", result="applied") == 1
    assert delta(ledger, kind="redeem", result="applied") == 1
    assert delta(ledger, kind="redeem", result="duplicate") == 1
    assert delta(ledger, kind="redeem", result="insufficient_balance") == 1
    # Placed and released: two changes of the SKU delivered to its one subscriber.
    assert delta("omnigate_subscription_events_total", topic="stock") >= 2
