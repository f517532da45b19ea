"""``/metrics`` on the demo stack, read with prometheus_client's own text parser: named
operations with their outcome and latency, an upstream that fails counted by its status,
webhook deliveries by outcome, circuit states and live subscriptions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from connectors.records import Source
from tests.e2e.conftest import Demo, boot

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
