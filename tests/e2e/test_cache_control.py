"""``Cache-Control`` on the demo stack: public stock, catalog and location answers may be kept
by a shared cache for their class's max-age (the shortest one a query touches), varying by
the credential headers; staff answers and a storefront's with a customer token only by the
caller; a person, a mutation, an error, introspection: ``no-store``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.shopify.ids import location_id
from gateway.auth import Authenticator
from resolvers.model import StockLevel
from resolvers.stock.levels import store_level
from sandboxes.demo.world import StockLevel as DemoStock
from tests.e2e.conftest import Demo

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def cache_header(
    demo: Demo,
    body: dict[str, Any] | list[dict[str, Any]],
    token: str | None = "demo-storefront",
    *,
    get: bool = False,
    headers: dict[str, str] | None = None,
) -> tuple[str | None, str | None, Any]:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    url = f"{demo.url}/graphql"
    if get:
        assert isinstance(body, dict)
        params = {"query": body["query"], "variables": json.dumps(body.get("variables") or {})}
        request = demo.http.get(url, params=params, headers={**sent, "Accept": "application/json"})
    else:
        request = demo.http.post(url, json=body, headers=sent)
    async with request as resp:
        assert resp.status == 200, await resp.text()
        return resp.headers.get("Cache-Control"), resp.headers.get("Vary"), await resp.json()


def a_row(demo: Demo) -> DemoStock:
    """A stock row at a store Shopify knows."""
    world = demo.world
    return next(
        r for r in world.stock if world.locations_by_code[r.location_code].shopify_location_id
    )


def a_sku(demo: Demo) -> str:
    return a_row(demo).sku


async def plant(demo: Demo) -> None:
    """One level in the store, as the warmup (off in these stacks) would put it."""
    row = a_row(demo)
    location = demo.world.locations_by_code[row.location_code]
    level = StockLevel(
        sku=row.sku,
        location_id=location_id(location.shopify_location_id),
        quantities={"available": row.available},
        updated_at=row.updated_at,
    )
    await store_level(demo.app.state.services, level, cause="warmup")


async def test_public_stock_is_kept_by_shared_caches_for_its_max_age(demo: Demo) -> None:
    query = "query($s: [String!]!) { stock(skus: $s) { sku available location { name } } }"
    body = {"query": query, "variables": {"s": [a_sku(demo)]}}
    await plant(demo)
    control, vary, answer = await cache_header(demo, body, get=True)
    assert answer.get("errors") is None, answer
    assert answer["data"]["stock"], answer
    assert control == "public, max-age=5"
    assert vary is not None
    assert vary.startswith("Authorization, X-Customer-Token")  # then the CORS Origin
    # Anonymous callers too, where the schema lets them read it.
    control, _, answer = await cache_header(demo, body, token=None)
    assert control == ("public, max-age=5" if answer.get("errors") is None else "no-store")


async def test_the_shortest_class_a_query_touches_wins(demo: Demo) -> None:
    locations = "{ locations(first: 5) { id name address { city } } }"
    control, _, answer = await cache_header(demo, {"query": locations})
    assert answer.get("errors") is None, answer
    assert control == "public, max-age=300"
    variant = (
        "query($sku: String!) { productVariant(sku: $sku) { sku title "
        "...Where } } fragment Where on ProductVariant { pickupLocations { name } }"
    )
    body = {"query": variant, "variables": {"sku": a_sku(demo)}}
    control, _, answer = await cache_header(demo, body)
    assert answer.get("errors") is None, answer
    assert control == "public, max-age=60"
    with_stock = variant.replace("title ", "title stock { available } ")
    control, _, _ = await cache_header(demo, {**body, "query": with_stock})
    assert control == "public, max-age=5"


async def test_callers_with_their_own_view_get_private(demo: Demo) -> None:
    body = {"query": "{ locations(first: 3) { id name } }"}
    control, _, answer = await cache_header(demo, body, token="demo-staff")
    assert answer.get("errors") is None, answer
    assert control == "private, max-age=300"
    auth: Authenticator = demo.app.state.authenticator
    # Signed for some customer id: the answer is public data, but asked as a person.
    customer = auth.issue_customer_token("cust_0123456789abcdef")
    control, _, answer = await cache_header(demo, body, headers={"X-Customer-Token": customer})
    assert answer.get("errors") is None, answer
    assert control == "private, max-age=300"


async def test_anything_personal_or_failed_is_never_stored(demo: Demo) -> None:
    sku = a_sku(demo)
    personal = [
        "{ viewer { role } }",
        '{ customerLookup(query: "a") { id } }',
        f'{{ stock(skus: ["{sku}"]) {{ sku }} viewer {{ role }} }}',
        "{ __schema { queryType { name } } }",
        "{ location(nope: 1) { id } }",  # a validation error
    ]
    for query in personal:
        control, vary, _ = await cache_header(demo, {"query": query}, token="demo-internal")
        assert control == "no-store", query
        assert "Authorization" not in (vary or ""), query
    hold = 'mutation { releasePickupHold(id: "nope") { id } }'
    control, _, _ = await cache_header(demo, {"query": hold})
    assert control == "no-store"
