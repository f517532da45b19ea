"""The inventory control routes of the Shopify and Square sandboxes deliver their webhooks
badly on request: duplicated byte for byte, newer before older, or not at all."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.records import InventoryChanged
from connectors.shopify.webhooks import ShopifyWebhooks
from connectors.square.webhooks import SquareWebhooks
from sandboxes.base.server import run_app
from sandboxes.demo import DemoWorld, PosSystem
from tests.connectors.shopify.conftest import SECRET, Shop, StartShop, start_shop, world
from tests.connectors.square.conftest import SIGNATURE_KEY, MakeSquare, base_world, make_square

__all__ = ["base_world", "make_square", "start_shop", "world"]  # the harnesses' fixtures

LEVEL = """query($id: ID!) { inventoryLevel(id: $id) { updatedAt
  quantities(names: ["available"]) { name quantity } } }"""


class Receiver:
    """Stands in for the gateway: keeps every delivery (headers lower-cased, raw body)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(
            ({k.lower(): v for k, v in request.headers.items()}, await request.read())
        )
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    got = Receiver()
    app = web.Application()
    app.router.add_post("/webhooks/{vendor}", got.handle)
    async with run_app(app) as url:
        got.url = url
        yield got


@pytest.fixture
async def shop(world: DemoWorld, start_shop: StartShop, receiver: Receiver) -> Shop:
    started = await start_shop(world)
    started.control.sender.url = f"{receiver.url}/webhooks/shopify"
    return started


def shopify_row(world: DemoWorld) -> tuple[str, Any]:
    row = next(s for s in world.stock if s.location_code == "WHS" and s.available >= 5)
    return row.sku, world.locations_by_code["WHS"]


def shopify_events(shop: Shop, receiver: Receiver, sku: str) -> list[InventoryChanged]:
    item = shop.control.state.world.variants_by_sku[sku].shopify_inventory_item_id
    endpoint = ShopifyWebhooks(SECRET, resolve_sku={f"gid://shopify/InventoryItem/{item}": sku}.get)
    events: list[InventoryChanged] = []
    for headers, body in receiver.received:
        assert endpoint.verify(url="", headers=headers, body=body)
        for event in endpoint.parse(headers=headers, body=body):
            assert isinstance(event, InventoryChanged)
            events.append(event)
    return events


async def test_shopify_duplicates_resend_the_same_signed_delivery(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    sku, loc = shopify_row(world)
    status, answer = await shop.call(
        "POST", "/inventory", {"sku": sku, "location": loc.code, "available": 4, "duplicates": 2}
    )
    assert status == 200, answer
    assert len(answer["deliveries"]) == 3
    assert len(receiver.received) == 3
    first_headers, first_body = receiver.received[0]
    for headers, body in receiver.received[1:]:
        assert body == first_body
        for name in ("x-shopify-hmac-sha256", "x-shopify-event-id", "x-shopify-webhook-id"):
            assert headers[name] == first_headers[name]
    events = shopify_events(shop, receiver, sku)
    assert [e.level.quantities["available"] for e in events if e.level] == [4, 4, 4]


async def test_shopify_out_of_order_delivers_the_newer_change_first(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    sku, loc = shopify_row(world)
    status, answer = await shop.call(
        "POST",
        "/inventory",
        {"sku": sku, "location": loc.code, "available": 9, "out_of_order": True,
         "then": {"available": 6}},
    )  # fmt: skip
    assert status == 200, answer
    newer, older = shopify_events(shop, receiver, sku)
    assert newer.level is not None
    assert older.level is not None
    assert newer.level.quantities["available"] == 6
    assert older.level.quantities["available"] == 9
    assert newer.level.updated_at > older.level.updated_at
    item = world.variants_by_sku[sku].shopify_inventory_item_id
    level_id = f"gid://shopify/InventoryLevel/{loc.shopify_location_id}?inventory_item_id={item}"
    _, read = await shop.graphql(LEVEL, {"id": level_id})
    level = read["data"]["inventoryLevel"]
    assert level["quantities"] == [{"name": "available", "quantity": 6}]
    assert datetime.fromisoformat(level["updatedAt"]) == newer.level.updated_at


async def test_shopify_without_webhook_changes_the_level_silently(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    sku, loc = shopify_row(world)
    item = world.variants_by_sku[sku].shopify_inventory_item_id
    level_id = f"gid://shopify/InventoryLevel/{loc.shopify_location_id}?inventory_item_id={item}"
    _, before = await shop.graphql(LEVEL, {"id": level_id})
    status, answer = await shop.call(
        "POST", "/inventory", {"sku": sku, "location": loc.code, "delta": -2, "webhook": False}
    )
    assert status == 200, answer
    assert answer["deliveries"] == []
    assert receiver.received == []
    _, after = await shop.graphql(LEVEL, {"id": level_id})
    was = before["data"]["inventoryLevel"]
    now = after["data"]["inventoryLevel"]
    assert now["quantities"][0]["quantity"] == was["quantities"][0]["quantity"] - 2
    assert now["updatedAt"] > was["updatedAt"]


async def test_shopify_refuses_bad_fault_options(shop: Shop, world: DemoWorld) -> None:
    sku, loc = shopify_row(world)
    for bad in ({"duplicates": -1}, {"out_of_order": "yes"}, {"then": {"available": 3}}):
        status, body = await shop.call(
            "POST", "/inventory", {"sku": sku, "location": loc.code, "delta": 1, **bad}
        )
        assert status == 400, (bad, body)


# --- Square -----------------------------------------------------------------------------------


def square_counts(receiver: Receiver, url: str) -> list[dict[str, Any]]:
    """The ``IN_STOCK`` counts of every delivery, in arrival order, each checked signed."""
    endpoint = SquareWebhooks(SIGNATURE_KEY)
    counts = []
    for headers, body in receiver.received:
        assert endpoint.verify(url=url, headers=headers, body=body)
        envelope = json.loads(body)
        assert envelope["type"] == "inventory.count.updated"
        counts.extend(envelope["data"]["object"]["inventory_counts"])
    return counts


async def test_square_duplicates_out_of_order_and_silent_counts(
    make_square: MakeSquare, receiver: Receiver
) -> None:
    url = f"{receiver.url}/webhooks/square"
    env = await make_square(webhook_url=url)
    store = next(loc for loc in env.world.locations if loc.pos is PosSystem.SQUARE)
    row = next(s for s in env.world.stock if s.location_code == store.code and s.available >= 5)
    target = {"sku": row.sku, "location_id": store.square_location_id}

    async def control(body: dict[str, Any]) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{env.url}/_sandbox/inventory", json={**target, **body}) as response,
        ):
            assert response.status == 200, await response.text()
            answer: dict[str, Any] = await response.json()
            return answer

    answer = await control({"quantity": 4, "duplicates": 1})
    assert answer["events"][0]["deliveries"] == 2
    first, again = receiver.received
    assert first[1] == again[1]
    assert first[0]["x-square-hmacsha256-signature"] == again[0]["x-square-hmacsha256-signature"]
    receiver.received.clear()

    await control({"quantity": 8, "out_of_order": True, "then": {"quantity": 5}})
    newer, older = square_counts(receiver, url)
    assert (newer["quantity"], older["quantity"]) == ("5", "8")
    assert newer["calculated_at"] > older["calculated_at"]
    receiver.received.clear()

    silent = await control({"delta": -1, "webhook": False})
    assert silent["events"] == []
    assert receiver.received == []
    assert silent["count"]["quantity"] == "4"
    assert silent["count"]["calculated_at"] > newer["calculated_at"]
    counts = await env.connector.inventory_levels([row.sku], None)
    unified = env.connector.locations.unified(str(store.square_location_id))
    at_store = [lv for lv in counts if lv.location_id == unified]
    assert [lv.quantities["available"] for lv in at_store] == [4]


async def test_shopify_sale_without_its_stock_webhooks(
    shop: Shop, world: DemoWorld, receiver: Receiver
) -> None:
    store = next(loc for loc in world.locations if loc.pos is PosSystem.SHOPIFY_POS)
    row = next(s for s in world.stock if s.location_code == store.code and s.available >= 2)
    status, sale = await shop.call(
        "POST",
        "/sales",
        {
            "location": store.code,
            "lines": [{"sku": row.sku, "quantity": 2}],
            "stock_webhooks": False,
        },
    )
    assert status == 200, sale
    assert [h["x-shopify-topic"] for h, _ in receiver.received] == ["orders/create"]
    level = shop.control.state.world.stock_level(row.sku, store.code)
    assert level is not None
    assert level.available == row.available - 2
