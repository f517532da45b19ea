"""Contract tests: every request the connector sends, every response and every webhook the
sandbox produces validate against the component schemas of Square's own OpenAPI document
(``shared/specs/square/api.json``), with invented properties forbidden.

Skipped, with a message, where the spec folder is absent.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from connectors.square.client import REQUIRED_SCOPES
from connectors.square.webhooks import EVENT_TYPES
from sandboxes.base.faults import FAULTS, Fault, FaultMode
from tests.connectors.square import contract
from tests.connectors.square.conftest import TOKEN, MakeSquare, SquareEnv

pytestmark = pytest.mark.usefixtures("spec")


@pytest.fixture(scope="module")
def spec() -> None:
    contract.require_spec()


async def _post(env: SquareEnv, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{env.url}/_sandbox/{path.lstrip('/')}", json=body) as response,
    ):
        assert response.status in (200, 201), await response.text()
        result: dict[str, Any] = await response.json()
        return result


async def _exercise(env: SquareEnv) -> None:
    """Every connector capability, including paginated and refunded paths."""
    world = env.world
    connector = env.connector
    customers = world.square_customers
    # Data Square would hold: an itemized refund (return order), an amount-only refund,
    # an online order, a customer with an address.
    sale = next(o for o in world.square_orders if o.customer_id)
    await _post(
        env, "refund", {"order_id": sale.id, "lines": [{"uid": sale.lines[0].uid, "quantity": 1}]}
    )
    other = next(o for o in world.square_orders if o.customer_id and o.id != sale.id)
    await _post(env, "refund", {"order_id": other.id, "amount": "1.00"})
    stocked = max((s for s in world.stock if s.location_code == "SOH"), key=lambda s: s.available)
    online = await _post(
        env,
        "sale",
        {
            "location_code": "SOH",
            "customer_id": customers[0].id,
            "source_name": "Square Online",
            "lines": [{"sku": stocked.sku, "quantity": 1}],
        },
    )

    await connector.warm_catalog()
    await connector.list_locations()
    ids = [c.id for c in customers]
    await connector.get_customers([*ids, "NOT0A0REAL0CUSTOMER0ID0000"])
    await connector.search_customers(emails=[world.quirks.upper_case_email[0].email])
    await connector.search_customers(phones=[world.quirks.local_phone[0].pos_phone])
    [page async for page in connector.list_customers(updated_since=world.now - timedelta(days=90))]
    await connector.orders_for_customers(ids)
    returned = next(o for o in world.square_orders if o.id == sale.id)
    await connector.get_orders([sale.id, online["order"]["id"], returned.id])
    connector.catalog.clear()
    await connector.get_orders([o.id for o in world.square_orders[:5]])  # cold catalog lookup
    await connector.inventory_levels([v.sku for v in world.variants], None)
    await connector.inventory_levels([world.variants[0].sku], ["square:NOPE"])


async def test_requests_and_responses_follow_the_spec(make_square: MakeSquare) -> None:
    env = await make_square(page_size_cap=15)
    await _exercise(env)
    seen: set[str] = set()
    for exchange in env.api_exchanges():
        operation = contract.operation(exchange.method, exchange.path)
        seen.add(operation.operation_id)
        context = f"{operation.operation_id} ({exchange.method} {exchange.path})"
        if operation.request_schema is not None:
            assert exchange.request is not None, context
            contract.assert_valid(operation.request_schema, exchange.request)
        else:
            assert exchange.request is None, context
        assert exchange.status == 200, f"{context}: {exchange.response}"
        assert operation.response_schema is not None
        contract.assert_valid(operation.response_schema, exchange.response)
    assert seen >= {
        "ListLocations",
        "BulkRetrieveCustomers",
        "SearchCustomers",
        "SearchOrders",
        "BatchRetrieveOrders",
        "BatchRetrieveCatalogObjects",
        "SearchCatalogObjects",
        "BatchRetrieveInventoryCounts",
    }
    # The token needs no permission beyond the documented ones.
    scopes = {
        scope for e in env.api_exchanges() for scope in contract.operation(e.method, e.path).scopes
    }
    assert scopes <= REQUIRED_SCOPES
    # The pagination and refund paths really were exercised.
    assert any("cursor" in (e.request or {}) for e in env.api_exchanges())
    orders = [o for e in env.api_exchanges() for o in (e.response or {}).get("orders", [])]
    assert any(o.get("returns") for o in orders)
    assert any(o.get("refunds") for o in orders)


async def test_the_spec_check_catches_drift() -> None:
    """The validator is strict enough to matter: an invented field or a wrong type fails."""
    good = {"id": "C1", "given_name": "Ann", "version": 1}
    assert contract.errors("Customer", good) == []
    assert contract.errors("Customer", {**good, "email": "a@b.c"})
    assert contract.errors("Customer", {**good, "version": "1"})
    assert contract.errors("SearchOrdersRequest", {"location_ids": "L1"})


async def test_error_bodies_follow_the_spec(square: SquareEnv) -> None:
    square.app[FAULTS].add(
        Fault(route="square.locations.list", mode=FaultMode.STATUS_429, retry_after=1)
    )
    square.app[FAULTS].add(Fault(route="square.customers.search", mode=FaultMode.STATUS_503))
    headers = {"Authorization": f"Bearer {TOKEN}", "Square-Version": "2025-08-20"}
    cases: list[tuple[str, str, dict[str, str], Any, int]] = [
        ("GET", "/v2/locations", headers, None, 429),
        ("POST", "/v2/customers/search", headers, {}, 503),
        ("POST", "/v2/catalog/search", {}, {}, 401),
        ("POST", "/v2/orders/search", headers, {"location_ids": []}, 400),
        ("POST", "/v2/orders/search", {**headers, "Square-Version": "latest"}, {}, 400),
        ("GET", "/v2/customers/NOPE", headers, None, 404),
        ("POST", "/v2/customers/bulk-retrieve", headers, {"customer_ids": ["x"] * 101}, 400),
    ]
    async with aiohttp.ClientSession() as http:
        for method, path, sent_headers, body, expected in cases:
            url = square.url + path
            async with http.request(method, url, headers=sent_headers, json=body) as r:
                assert r.status == expected, (path, await r.text())
                payload = await r.json()
                if expected == 429:
                    assert r.headers["Retry-After"] == "1"
            assert payload["errors"], path
            for error in payload["errors"]:
                contract.assert_valid("Error", error)


async def test_webhooks_follow_the_spec(square: SquareEnv) -> None:
    world = square.world
    customer = world.square_customers[0]
    stocked = max((s for s in world.stock if s.location_code == "BKN"), key=lambda s: s.available)
    bkn = world.locations_by_code["BKN"]
    sale = await _post(
        square,
        "sale",
        {
            "location_code": "BKN",
            "customer_id": customer.id,
            "lines": [{"sku": stocked.sku, "quantity": 2}],
        },
    )
    online = await _post(
        square,
        "sale",
        {"location_code": "BKN", "source_name": "Square Online", "lines": [{"sku": stocked.sku}]},
    )
    assert online["events"][0]["type"] == "order.created"
    await _post(
        square,
        "refund",
        {
            "order_id": sale["order"]["id"],
            "lines": [{"uid": sale["order"]["line_items"][0]["uid"], "quantity": 1}],
        },
    )
    await _post(square, "inventory", {"sku": stocked.sku, "location_code": "BKN", "quantity": 40})
    created = await _post(
        square, "customers", {"given_name": "Noor", "email_address": "NOOR@EXAMPLE.COM"}
    )
    new_id = created["customer"]["id"]
    await _post(square, f"customers/{new_id}", {"phone_number": "(212) 555-0199"})
    await _post(square, f"locations/{bkn.square_location_id}", {"name": "Fernhill Brooklyn"})
    async with (
        aiohttp.ClientSession() as http,
        http.delete(f"{square.url}/_sandbox/customers/{new_id}") as response,
    ):
        assert response.status == 200

    schemas = contract.webhook_schemas()
    types = set()
    for sent in square.sandbox.events:
        body = json.loads(sent.body)
        types.add(body["type"])
        contract.assert_valid(schemas[body["type"]], body)
        assert [d.error for d in sent.deliveries] == ["no target url"]  # no gateway here
    assert types == {
        "order.created",
        "order.updated",
        "inventory.count.updated",
        "refund.created",
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "location.updated",
    }
    # And the connector's parser understands every one of them.
    hooks = square.connector.webhooks
    assert hooks is not None
    for sent in square.sandbox.events:
        assert hooks.parse(headers={}, body=sent.body), sent.type


def test_subscriptions_need_only_the_documented_scopes() -> None:
    schemas = contract.webhook_schemas()
    needed = {
        scope
        for event_type in EVENT_TYPES
        for scope in contract.webhook_scopes(schemas[event_type])
    }
    assert needed
    assert needed <= REQUIRED_SCOPES
