"""The sandbox behaves like Shopify's Admin API where the connector depends on it: schema
validation, cost, throttling, pagination, search, POS orders, and signed webhooks from its
control API."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from graphql import parse

from connectors.records import Channel, CustomerChanged, InventoryChanged, OrderChanged
from connectors.shopify import queries
from connectors.shopify.cost import requested_cost
from connectors.shopify.schema import subset_schema
from connectors.shopify.webhooks import ShopifyWebhooks
from sandboxes.base.faults import FAULTS, Fault, FaultMode
from sandboxes.base.server import run_app
from sandboxes.demo import DemoWorld, PosSystem
from tests.connectors.shopify.conftest import SECRET, Shop, StartShop


def gid(kind: str, id_: int) -> str:
    return f"gid://shopify/{kind}/{id_}"


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture
async def shop(world: DemoWorld, start_shop: StartShop) -> Shop:
    return await start_shop(world)


class Receiver:
    """A stand-in for the gateway: records every webhook delivery it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(({k.lower(): v for k, v in request.headers.items()}, body))
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver(shop: Shop) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/webhooks/shopify", receiver.handle)
    async with run_app(app) as url:
        shop.control.sender.url = f"{url}/webhooks/shopify"
        yield receiver


# --- the API --------------------------------------------------------------------------------


async def test_a_wrong_token_is_refused_like_shopify(shop: Shop) -> None:
    status, body = await shop.graphql("query { locations(first: 1) { nodes { id } } }", token="x")
    assert status == 401
    assert "Invalid API key or access token" in body["errors"]


async def test_queries_are_validated_against_the_2026_01_schema(shop: Shop) -> None:
    status, body = await shop.graphql(
        'query { customer(id: "gid://shopify/Customer/1") { email } }'  # deprecated: not served
    )
    assert status == 200
    assert "data" not in body
    assert code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "email" in body["errors"][0]["message"]


async def test_a_query_over_1000_points_gets_max_cost_exceeded_and_costs_nothing(
    shop: Shop,
) -> None:
    document = queries.SEARCH_CUSTOMERS
    status, body = await shop.graphql(document, {"query": "", "first": 250})
    assert status == 200
    assert code(body) == "MAX_COST_EXCEEDED"
    assert body["errors"][0]["extensions"]["cost"] == 1002
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1002
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1000
    assert shop.bucket.counts["max_cost_exceeded"] == 1


@pytest.mark.parametrize("status", [200, 429])
async def test_an_empty_bucket_answers_throttled_with_200_or_429(shop: Shop, status: int) -> None:
    shop.bucket.configure({"currentlyAvailable": 0, "throttledStatus": status, "restoreRate": 1})
    answered, body = await shop.graphql(queries.LOCATIONS, {"first": 10})
    assert answered == status
    assert code(body) == "THROTTLED"
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 10 * 3
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["maximumAvailable"] == 1000
    assert cost["throttleStatus"]["restoreRate"] == 1


async def test_every_answer_reports_requested_and_actual_cost(shop: Shop, world: DemoWorld) -> None:
    ids = [gid("Customer", world.shopify_customers[0].id), gid("Customer", 1)]
    status, body = await shop.graphql(queries.CUSTOMERS_BY_IDS, {"ids": ids})
    assert status == 200
    assert body["data"]["nodes"][1] is None
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == requested_cost(
        subset_schema(), parse(queries.CUSTOMERS_BY_IDS), {"ids": ids}
    )
    assert 1 <= cost["actualQueryCost"] <= 4  # one customer and its objects; the miss is free
    assert cost["throttleStatus"]["currentlyAvailable"] >= 1000 - cost["actualQueryCost"]


async def test_connections_need_a_page_size_of_at_most_250(shop: Shop) -> None:
    _, missing = await shop.graphql("query { customers { nodes { id } } }")
    assert "first or last" in missing["errors"][0]["message"]
    _, too_big = await shop.graphql("query { orders(first: 251) { nodes { id } } }")
    assert too_big["data"] is None
    assert "between 0 and 250" in too_big["errors"][0]["message"]


async def test_cursor_pagination_visits_every_record_once(shop: Shop, world: DemoWorld) -> None:
    document = (
        "query($after: String) { customers(first: 40, after: $after) "
        "{ edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"
    )
    seen: list[str] = []
    after = None
    while True:
        _, body = await shop.graphql(document, {"after": after})
        page = body["data"]["customers"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == [
        gid("Customer", c.id) for c in sorted(world.shopify_customers, key=lambda c: c.id)
    ]


async def test_search_finds_a_customers_orders_and_pos_orders_name_their_store(
    shop: Shop, world: DemoWorld
) -> None:
    owner = next(
        c
        for c in world.shopify_customers
        if {o.source_name for o in world.shopify_orders_by_customer.get(c.id, [])} == {"pos", "web"}
    )
    document = (
        "query($q: String!) { orders(first: 50, query: $q) "
        "{ nodes { id sourceName retailLocation { id } customer { id } } } }"
    )
    _, body = await shop.graphql(document, {"q": f"customer_id:{owner.id}"})
    nodes = body["data"]["orders"]["nodes"]
    expected = world.shopify_orders_by_customer[owner.id]
    assert {n["id"] for n in nodes} == {gid("Order", o.id) for o in expected}
    by_id = {gid("Order", o.id): o for o in expected}
    for node in nodes:
        source = by_id[node["id"]]
        assert node["customer"]["id"] == gid("Customer", owner.id)
        if source.source_name == "pos":
            assert node["retailLocation"]["id"] == gid("Location", source.location_id)
        else:
            assert node["retailLocation"] is None


async def test_shared_429_faults_answer_in_shopifys_shape(shop: Shop) -> None:
    shop.app[FAULTS].add(Fault("graphql", FaultMode.STATUS_429, retry_after=1, count=1))
    status, body = await shop.graphql(queries.LOCATIONS, {"first": 1})
    assert status == 429
    assert code(body) == "THROTTLED"


# --- the control API ------------------------------------------------------------------------


async def test_a_sale_carries_its_discount_codes_in_the_webhook_and_the_api(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    row = next(s for s in world.stock if s.location_code == "WHS" and s.available >= 1)
    buyer = next(c for c in world.shopify_customers if c.email)
    status, sale = await shop.call(
        "POST",
        "/sales",
        {
            "source_name": "web",
            "customer_id": gid("Customer", buyer.id),
            "lines": [{"sku": row.sku}],
            "discount_codes": ["SUMMER10", "7K2M9QX4TB"],
        },
    )
    assert status == 200
    headers, body = receiver.received[0]
    (event, *_) = ShopifyWebhooks(SECRET).parse(headers=headers, body=body)
    assert isinstance(event, OrderChanged)
    assert event.order is not None
    assert event.order.codes == ("SUMMER10", "7K2M9QX4TB")
    status, answer = await shop.graphql(
        "query($id: ID!) { order(id: $id) { discountCodes } }", {"id": sale["order"]["id"]}
    )
    assert status == 200
    assert answer["data"]["order"]["discountCodes"] == ["SUMMER10", "7K2M9QX4TB"]
    status, _ = await shop.call(
        "POST", "/sales", {"source_name": "web", "lines": [{"sku": row.sku}], "discount_codes": "X"}
    )
    assert status == 400


async def test_an_in_store_sale_sends_signed_webhooks_and_changes_the_shop(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    store = next(loc for loc in world.locations if loc.pos is PosSystem.SHOPIFY_POS)
    row = next(s for s in world.stock if s.location_code == store.code and s.available >= 2)
    buyer = next(c for c in world.shopify_customers if c.email)
    status, sale = await shop.call(
        "POST",
        "/sales",
        {
            "location": f"shopify:{store.shopify_location_id}",
            "customer_id": gid("Customer", buyer.id),
            "lines": [{"sku": row.sku, "quantity": 2}],
        },
    )
    assert status == 200
    assert len(receiver.received) == 2

    skus = {gid("InventoryItem", world.variants_by_sku[row.sku].shopify_inventory_item_id): row.sku}
    endpoint = ShopifyWebhooks(SECRET, resolve_sku=skus.get)
    events = []
    for headers, body in receiver.received:
        assert endpoint.verify(url="", headers=headers, body=body)
        assert base64.b64decode(headers["x-shopify-hmac-sha256"])
        events += endpoint.parse(headers=headers, body=body)
    order_event, stock_event = events
    assert isinstance(order_event, OrderChanged)
    assert order_event.order is not None
    assert order_event.order_id == sale["order"]["id"]
    assert order_event.customer_id == gid("Customer", buyer.id)
    assert order_event.order.channel is Channel.IN_STORE
    assert order_event.order.location_id == f"shopify:{store.shopify_location_id}"
    assert isinstance(stock_event, InventoryChanged)
    assert stock_event.level is not None
    assert stock_event.level.quantities == {"available": row.available - 2}
    assert order_event.event_id != stock_event.event_id

    _, body = await shop.graphql(
        "query($id: ID!) { order(id: $id) { sourceName retailLocation { id } "
        "lineItems(first: 5) { nodes { sku quantity } } } }",
        {"id": sale["order"]["id"]},
    )
    assert body["data"]["order"]["sourceName"] == "pos"
    assert body["data"]["order"]["lineItems"]["nodes"] == [{"sku": row.sku, "quantity": 2}]
    assert world.stock_level(row.sku, store.code) is row  # the session world is untouched
    assert shop.control.state.world.stock_level(row.sku, store.code).available == row.available - 2  # type: ignore[union-attr]


async def test_sales_are_refused_where_shopify_would_refuse_them(
    shop: Shop, world: DemoWorld
) -> None:
    square_store = next(loc for loc in world.locations if loc.pos is PosSystem.SQUARE)
    status, body = await shop.call(
        "POST", "/sales", {"location": square_store.code, "lines": [{"sku": "TEE-ORG-BLK-M"}]}
    )
    assert status == 400
    assert "Shopify POS" in body["error"]
    out = world.quirks.stock.out_of_stock
    status, _ = await shop.call("POST", "/sales", {"location": out[1], "lines": [{"sku": out[0]}]})
    assert status in (400, 409)


async def test_stock_adjustment_and_customer_edit_send_their_topics(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    status, adjusted = await shop.call(
        "POST", "/inventory", {"sku": "TEE-ORG-BLK-M", "location": "WHS", "available": 40}
    )
    assert status == 200
    assert adjusted["level"]["quantities"]["available"] == 40
    customer = world.shopify_customers[3]
    status, _ = await shop.call(
        "PATCH",
        f"/customers/{customer.id}",
        {"first_name": "Renamed", "email_marketing": "subscribed"},
    )
    assert status == 200
    endpoint = ShopifyWebhooks(SECRET)
    topics = [h["x-shopify-topic"] for h, _ in receiver.received]
    assert topics == ["inventory_levels/update", "customers/update"]
    headers, body = receiver.received[1]
    (event,) = endpoint.parse(headers=headers, body=body)
    assert isinstance(event, CustomerChanged)
    assert event.customer is not None
    assert event.customer.first_name == "Renamed"
    assert event.customer.email_consent is not None
    assert event.customer.email_consent.can_receive

    _, read = await shop.graphql(
        "query($id: ID!) { customer(id: $id) { firstName updatedAt } }",
        {"id": gid("Customer", customer.id)},
    )
    assert read["data"]["customer"]["firstName"] == "Renamed"
    assert read["data"]["customer"]["updatedAt"] > customer.updated_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


async def test_refund_location_and_privacy_routes(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    order = next(o for o in world.shopify_orders if not o.refunds and o.customer_id)
    status, refund = await shop.call(
        "POST",
        "/refunds",
        {"order_id": order.id, "lines": [{"sku": order.lines[0].sku, "quantity": 1}]},
    )
    assert status == 200
    assert [d["topic"] for d in refund["deliveries"]] == ["refunds/create", "orders/updated"]
    store = world.locations_by_code["BOS"]
    status, _ = await shop.call("PATCH", f"/locations/{store.shopify_location_id}", {"name": "BB"})
    assert status == 200
    status, _ = await shop.call(
        "POST", "/privacy", {"topic": "customers/redact", "customer_id": order.customer_id}
    )
    assert status == 200
    topics = [h["x-shopify-topic"] for h, _ in receiver.received]
    assert topics == ["refunds/create", "orders/updated", "locations/update", "customers/redact"]
    status, listed = await shop.call("GET", "/webhooks")
    assert [d["topic"] for d in listed["deliveries"]] == topics
    assert all(d["status"] == 200 for d in listed["deliveries"])


async def test_throttle_control_route(shop: Shop) -> None:
    status, body = await shop.call(
        "POST", "/throttle", {"restoreRate": 50, "maximumAvailable": 200}
    )
    assert status == 200
    assert body["throttleStatus"] == {
        "maximumAvailable": 200.0,
        "currentlyAvailable": 200.0,
        "restoreRate": 50.0,
    }
    status, body = await shop.call("POST", "/throttle", {"restoreRate": -1})
    assert status == 400


async def test_changes_are_stamped_after_the_world_in_whole_increasing_seconds(
    shop: Shop, world: DemoWorld
) -> None:
    sales = []
    for _ in range(2):
        status, sale = await shop.call(
            "POST", "/sales", {"location": "BOS", "lines": [{"sku": "TEE-ORG-BLK-M"}]}
        )
        assert status == 200
        sales.append(shop.control.state.order(int(sale["order"]["id"].rsplit("/", 1)[1])))
    first, second = sales
    assert first is not None
    assert second is not None
    assert world.now < first.created_at < second.created_at
    assert first.created_at.microsecond == 0
    assert first.id < second.id  # Shopify ids grow with time
