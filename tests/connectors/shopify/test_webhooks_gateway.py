"""Shopify webhooks through the real gateway route (``POST /webhooks/shopify``).

The app is built with ``gateway.app.create_app`` and served on loopback with its lifespan
(so its Shopify connector is started against a sandbox); deliveries are signed like Shopify
signs them. Effects are read from the gateway's store and event bus.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from starlette.applications import Starlette

from connectors.records import (
    CustomerChanged,
    InventoryChanged,
    OrderChanged,
    PrivacyRequest,
    Source,
)
from connectors.shopify.connector import ShopifyConnector
from gateway.app import create_app
from sandboxes.base.webhooks import sign_shopify
from sandboxes.demo import DemoWorld
from tests.connectors.shopify.conftest import SECRET, TOKEN, Shop, StartShop
from tests.support import make_settings, serve

SKU = "TEE-ORG-BLK-M"


@dataclass
class Gateway:
    url: str
    app: Starlette
    shop: Shop
    world: DemoWorld

    @property
    def services(self) -> Any:
        return self.app.state.services

    @property
    def connector(self) -> ShopifyConnector:
        connector = self.services.connectors.get(Source("shopify"))
        assert isinstance(connector, ShopifyConnector)
        return connector

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/webhooks/shopify", data=body, headers=headers) as resp,
        ):
            return resp.status, await resp.json()

    def count(self, event_type: type[Any]) -> list[Any]:
        """Every event of ``event_type`` the gateway's dispatcher handles from now on."""
        handled: list[Any] = []

        async def record(services: Any, event: Any) -> None:
            handled.append(event)

        self.app.state.dispatcher.on(event_type, record)
        return handled

    async def stock(self, sku: str, location: str) -> list[Any]:
        return await self.services.store.inventory.get_stock([sku], [location])


@pytest.fixture
async def gateway(world: DemoWorld, start_shop: StartShop) -> AsyncIterator[Gateway]:
    shop = await start_shop(world)
    settings = make_settings(
        shopify={"base_url": shop.url, "access_token": TOKEN, "webhook_secret": SECRET}
    )
    app = create_app(settings)
    async with serve(app) as url:
        # The first answer comes after the lifespan has started the connectors.
        async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as resp:
            assert resp.status == 200
        shop.control.sender.url = f"{url}/webhooks/shopify"
        yield Gateway(url, app, shop, world)


def inventory_body(world: DemoWorld, available: int, updated_at: datetime) -> bytes:
    variant = world.variants_by_sku[SKU]
    store = world.locations_by_code["BOS"]
    return json.dumps(
        {
            "inventory_item_id": variant.shopify_inventory_item_id,
            "location_id": store.shopify_location_id,
            "available": available,
            "updated_at": updated_at.isoformat(),
        }
    ).encode()


def signed(body: bytes, event_id: str, topic: str = "inventory_levels/update") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_shopify(SECRET, body),
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Webhook-Id": f"wh-{event_id}",
        "X-Shopify-Shop-Domain": "omnigate-demo.myshopify.com",
    }


def bos(world: DemoWorld) -> str:
    return f"shopify:{world.locations_by_code['BOS'].shopify_location_id}"


async def test_forged_missing_and_tampered_signatures_get_401_and_change_nothing(
    gateway: Gateway,
) -> None:
    await gateway.connector.refresh_sku_cache()  # the SKU is known: a verified body would apply
    when = gateway.world.now + timedelta(days=1)
    body = inventory_body(gateway.world, 999, when)
    good = signed(body, "evt-forgery")
    forged = {**good, "X-Shopify-Hmac-Sha256": sign_shopify("not-the-secret", body)}
    missing = {k: v for k, v in good.items() if k != "X-Shopify-Hmac-Sha256"}
    tampered_body = body.replace(b"999", b"998")

    seen = gateway.count(InventoryChanged)
    for sent_body, sent_headers in ((body, forged), (body, missing), (tampered_body, good)):
        status, answer = await gateway.post(sent_body, sent_headers)
        assert status == 401
        assert answer["code"] == "UNAUTHENTICATED"
    assert seen == []
    assert await gateway.stock(SKU, bos(gateway.world)) == []

    # The same delivery correctly signed does apply, so the 401s above were the signature.
    status, answer = await gateway.post(body, good)
    assert (status, answer["applied"]) == (200, 1)
    (level,) = await gateway.stock(SKU, bos(gateway.world))
    assert level.quantities == {"available": 999, "safety_stock": 0}


async def test_a_delivery_repeated_three_times_has_one_effect(gateway: Gateway) -> None:
    await gateway.connector.refresh_sku_cache()
    body = inventory_body(gateway.world, 7, gateway.world.now + timedelta(hours=3))
    headers = signed(body, "evt-repeated")
    answers = []
    seen = gateway.count(InventoryChanged)
    for _ in range(3):
        status, answer = await gateway.post(body, headers)
        assert status == 200
        answers.append((answer["applied"], answer["duplicates"]))
    assert len(seen) == 1
    assert answers == [(1, 0), (0, 1), (0, 1)]
    (level,) = await gateway.stock(SKU, bos(gateway.world))
    assert level.quantities == {"available": 7, "safety_stock": 0}


async def test_an_older_inventory_update_arriving_later_does_not_overwrite_the_newer(
    gateway: Gateway,
) -> None:
    await gateway.connector.refresh_sku_cache()
    newer_at = gateway.world.now + timedelta(hours=2)
    older_at = gateway.world.now + timedelta(hours=1)
    eastern = newer_at.astimezone(timezone(timedelta(hours=-4)))  # offsets are compared as instants
    newer = inventory_body(gateway.world, 5, eastern)
    older = inventory_body(gateway.world, 9, older_at)
    assert (await gateway.post(newer, signed(newer, "evt-newer")))[0] == 200
    assert (await gateway.post(older, signed(older, "evt-older")))[0] == 200
    (level,) = await gateway.stock(SKU, bos(gateway.world))
    assert level.quantities == {"available": 5, "safety_stock": 0}
    assert level.updated_at == newer_at


async def test_an_in_store_sale_in_the_sandbox_reaches_the_gateway_once(gateway: Gateway) -> None:
    """End to end: the sandbox's control API sells at a Shopify POS store and sends signed
    ``orders/create`` and ``inventory_levels/update``; replays of the stock delivery are
    acknowledged without a second effect."""
    await gateway.connector.refresh_sku_cache()
    before = gateway.world.stock_level(SKU, "BOS")
    assert before is not None
    stock_events = gateway.count(InventoryChanged)
    order_events = gateway.count(OrderChanged)
    status, sale = await gateway.shop.call(
        "POST", "/sales", {"location": "BOS", "lines": [{"sku": SKU, "quantity": 2}]}
    )
    assert status == 200
    assert [d["topic"] for d in sale["deliveries"]] == [
        "orders/create",
        "inventory_levels/update",
    ]
    assert [d["status"] for d in sale["deliveries"]] == [200, 200]
    status, again = await gateway.shop.call(
        "POST", "/webhooks/redeliver", {"index": -1, "times": 2}
    )
    assert status == 200
    assert [d["status"] for d in again["deliveries"]] == [200, 200]
    assert len(stock_events) == 1
    assert len(order_events) == 1
    order_event = order_events[0]
    assert order_event.order.location_id == bos(gateway.world)
    assert order_event.order.channel.value == "in_store"
    (level,) = await gateway.stock(SKU, bos(gateway.world))
    # The order re-read the whole level (every quantity name); the webhook agreed.
    assert level.quantities == {**before.quantities(), "available": before.available - 2,
                                "on_hand": before.on_hand - 2, "safety_stock": 0}  # fmt: skip


# --- replays under another topic or event id; bodies that can never be applied -------------


async def test_the_same_body_with_a_fresh_event_id_is_a_replay_applied_once(
    gateway: Gateway,
) -> None:
    """The event id is an unsigned header: a captured body re-sent under a new id is still the
    same signed body, and has no second effect."""
    await gateway.connector.refresh_sku_cache()
    body = inventory_body(gateway.world, 11, gateway.world.now + timedelta(hours=4))
    seen = gateway.count(InventoryChanged)
    status, answer = await gateway.post(body, signed(body, "evt-captured"))
    assert (status, answer["applied"]) == (200, 1)
    status, answer = await gateway.post(body, signed(body, "evt-fresh"))
    assert (status, answer["ok"], answer["applied"], answer["duplicates"]) == (200, True, 0, 1)
    assert len(seen) == 1


async def test_an_order_body_under_customers_redact_is_dead_lettered_not_erasing(
    gateway: Gateway,
) -> None:
    """A signed order body never seen before, relabelled as a redact request: it is not a
    well-formed redact payload, so nothing is erased; it is kept as a dead letter."""
    order = {
        "id": 820982911946154508,
        "name": "#9999",
        "order_number": 9999,
        "email": "jon@example.com",
        "created_at": "2026-09-03T08:44:10-04:00",
        "total_price": "10.00",
        "currency": "USD",
        "customer": {"id": 115310627314723954, "email": "jon@example.com"},
        "line_items": [{"sku": SKU, "quantity": 1, "price": "10.00"}],
    }
    body = json.dumps(order).encode()
    requests = gateway.count(PrivacyRequest)
    status, answer = await gateway.post(body, signed(body, "evt-relabelled", "customers/redact"))
    assert status == 200
    assert (answer["ok"], answer["deadLettered"]) == (False, True)
    assert requests == []
    (letter,) = await gateway.services.store.webhooks.dead_letters()
    assert (letter.topic, letter.event_id) == ("customers/redact", "evt-relabelled")
    assert "customers/redact" in letter.reason


HEALTH = "{ health { webhooks { deadLetters } } }"


async def test_a_signed_body_that_cannot_map_is_dead_lettered_once_and_counted(
    gateway: Gateway,
) -> None:
    body = json.dumps(
        {"id": 7001, "email": 123, "first_name": "Ann", "created_at": "2026-09-03T08:44:10Z"}
    ).encode()
    headers = signed(body, "evt-bad-email", "customers/update")
    changes = gateway.count(CustomerChanged)
    status, answer = await gateway.post(body, headers)
    assert status == 200  # Shopify retries anything else, then drops the subscription
    assert (answer["ok"], answer["deadLettered"], answer["code"]) == (False, True, "DEAD_LETTERED")
    assert "email" in answer["reason"]

    store = gateway.services.store
    (letter,) = await store.webhooks.dead_letters()
    assert letter.source is Source("shopify")
    assert (letter.topic, letter.event_id) == ("customers/update", "evt-bad-email")
    assert letter.body == body
    assert letter.body_digest == hashlib.sha256(body).hexdigest()
    assert "email" in letter.reason
    assert letter.headers["x-shopify-topic"] == "customers/update"

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/graphql", json={"query": HEALTH}) as resp,
    ):
        health = await resp.json()
    assert health["data"]["health"]["webhooks"] == {"deadLetters": 1}
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/readyz") as resp:
        ready = await resp.json()
    assert ready["webhooks"] == {"deadLetters": 1}

    # Shopify's own redelivery (same body, same ids) is acknowledged: no loop, one letter.
    for _ in range(2):
        status, answer = await gateway.post(body, headers)
        assert (status, answer["ok"]) == (200, True)
    assert await store.webhooks.count_dead_letters() == 1
    assert changes == []
