"""End to end through the real gateway: Square sandbox -> signed webhook -> ``POST
/webhooks/square`` -> verification, dedupe, parsing -> the store; and the connector reading
the same sale back from the sandbox.

The subscription's notification URL is a public one (as behind a load balancer); the sandbox
signs with it and delivers to the gateway's loopback port, and the gateway verifies with its
``OMNIGATE_SQUARE_WEBHOOK_URL`` setting.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.records import Channel, InventoryChanged, OrderChanged, Source, WebhookEvent
from connectors.square import SquareConnector
from connectors.square.mapping import parse_time
from connectors.square.webhooks import SIGNATURE_HEADER
from gateway.app import create_app
from resolvers.context import Services
from resolvers.webhook_events import WebhookDispatcher
from sandboxes.base import run_app
from sandboxes.base.webhooks import sign_square
from sandboxes.demo import DemoWorld
from sandboxes.square import SANDBOX, SquareSandbox, create_sandbox
from tests.connectors.square.conftest import SIGNATURE_KEY, TOKEN, location_map, unified
from tests.support import make_settings, serve

PUBLIC_URL = "https://omnigate.example.com/webhooks/square"


@dataclass
class Stack:
    sandbox_url: str
    gateway_url: str
    app: web.Application
    services: Services
    http: aiohttp.ClientSession
    #: Every event the gateway's dispatcher handled (verified, not a replay), in order.
    handled: list[WebhookEvent]

    @property
    def sandbox(self) -> SquareSandbox:
        return self.app[SANDBOX]

    @property
    def world(self) -> DemoWorld:
        return self.sandbox.world

    @property
    def connector(self) -> SquareConnector:
        connector = self.services.connectors.get(Source("square"))
        assert isinstance(connector, SquareConnector)
        return connector

    async def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(f"{self.sandbox_url}/_sandbox/{path}", json=body) as response:
            assert response.status in (200, 201), await response.text()
            result: dict[str, Any] = await response.json()
            return result

    async def post_webhook(self, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        async with self.http.post(
            f"{self.gateway_url}/webhooks/square",
            data=body,
            headers={"Content-Type": "application/json", **headers},
        ) as response:
            return response.status, await response.json()

    def stocked_sku(self, code: str = "BKN") -> str:
        rows = [s for s in self.world.stock if s.location_code == code]
        return max(rows, key=lambda s: s.available).sku


async def _stack(base_world: DemoWorld, *, public_url: str | None) -> AsyncIterator[Stack]:
    app = create_sandbox(
        base_world, access_token=TOKEN, signature_key=SIGNATURE_KEY, notification_url=public_url
    )
    async with run_app(app) as sandbox_url:
        settings = make_settings(
            square={
                "base_url": sandbox_url,
                "access_token": TOKEN,
                "webhook_signature_key": SIGNATURE_KEY,
                "webhook_url": public_url,
                "location_map": location_map(base_world),
            }
        )
        gateway = create_app(settings)
        async with serve(gateway) as gateway_url, aiohttp.ClientSession() as http:
            app[SANDBOX].sender.url = f"{gateway_url}/webhooks/square"
            # The first answer means the lifespan has run: the connector is started.
            async with http.get(f"{gateway_url}/healthz") as response:
                assert response.status == 200
            handled: list[WebhookEvent] = []
            dispatcher: WebhookDispatcher = gateway.state.dispatcher

            async def record(services: Services, event: WebhookEvent) -> None:
                handled.append(event)

            dispatcher.on(WebhookEvent, record)
            stack = Stack(sandbox_url, gateway_url, app, gateway.state.services, http, handled)
            await stack.connector.warm_catalog()
            yield stack


@pytest.fixture
async def stack(base_world: DemoWorld) -> AsyncIterator[Stack]:
    async for built in _stack(base_world, public_url=PUBLIC_URL):
        yield built


async def test_in_store_sale_reaches_the_gateway_and_the_connector(stack: Stack) -> None:
    world = stack.world
    bkn = world.locations_by_code["BKN"]
    customer = next(c for c in world.square_customers if c.id in world.square_orders_by_customer)
    sku = stack.stocked_sku("BKN")
    before = world.stock_level(sku, "BKN")
    assert before is not None
    on_hand = before.available
    store = stack.services.store

    result = await stack.control(
        "sale",
        {
            "location_code": "BKN",
            "customer_id": customer.id,
            "lines": [{"sku": sku, "quantity": 2}],
        },
    )
    # POS sales announce themselves with order.updated only, then the stock change.
    assert [(e["type"], e["status"]) for e in result["events"]] == [
        ("order.updated", 200),
        ("inventory.count.updated", 200),
    ]
    order_id = result["order"]["id"]
    changed, counted = stack.handled
    assert isinstance(changed, OrderChanged)
    assert changed.order_id == order_id
    assert isinstance(counted, InventoryChanged)
    assert counted.level is not None
    assert counted.level.sku == sku

    # The verified inventory webhook landed on the unified location (Shopify's id for BKN).
    (level,) = await store.inventory.get_stock([sku], [unified(bkn)])
    assert level.quantities["available"] == on_hand - 2
    assert level.source is Source("square")
    count = world.stock_level(sku, "BKN")
    assert count is not None
    assert level.updated_at == count.updated_at

    # Fetching the order is the connector's job: in store, at the unified location.
    orders = (await stack.connector.orders_for_customers([customer.id]))[customer.id]
    new = next(o for o in orders if o.id == order_id)
    assert new.channel is Channel.IN_STORE
    assert new.location_id == unified(bkn)
    assert [(li.sku, li.quantity) for li in new.line_items] == [(sku, 2)]
    assert (await stack.connector.get_orders([order_id]))[order_id] == new


async def test_forged_signatures_get_401_and_change_nothing(stack: Stack) -> None:
    sku = stack.stocked_sku("SOH")
    result = await stack.control(
        "inventory", {"sku": sku, "location_code": "SOH", "quantity": 3, "deliver": False}
    )
    (held,) = result["events"]
    sent = next(e for e in stack.sandbox.events if e.event_id == held["event_id"])
    body = sent.body
    loopback_url = f"{stack.gateway_url}/webhooks/square"
    forgeries = [
        {},
        {SIGNATURE_HEADER: sign_square("not-the-key", PUBLIC_URL, body)},
        {SIGNATURE_HEADER: sign_square(SIGNATURE_KEY, loopback_url, body)},  # wrong URL
        {SIGNATURE_HEADER: sign_square(SIGNATURE_KEY, PUBLIC_URL, body + b"\n")},
        {SIGNATURE_HEADER: "garbage"},
    ]
    for headers in forgeries:
        status, payload = await stack.post_webhook(body, headers)
        assert status == 401, headers
        assert payload["code"] == "UNAUTHENTICATED"
    soh = stack.world.locations_by_code["SOH"]
    location = f"square:{soh.square_location_id}"
    assert await stack.services.store.inventory.get_stock([sku], [location]) == []

    # The genuine delivery still counts: forgeries did not burn its event id.
    status, payload = await stack.post_webhook(
        body, {SIGNATURE_HEADER: sign_square(SIGNATURE_KEY, PUBLIC_URL, body)}
    )
    assert (status, payload["applied"], payload["duplicates"]) == (200, 1, 0)
    (level,) = await stack.services.store.inventory.get_stock([sku], [location])
    assert level.quantities["available"] == 3


async def test_a_repeated_event_id_has_one_effect(stack: Stack) -> None:
    sku = stack.stocked_sku("BKN")
    result = await stack.control(
        "sale", {"location_code": "BKN", "lines": [{"sku": sku, "quantity": 1}]}
    )
    for event in result["events"]:  # Square retries with the same event_id
        again = await stack.control("webhooks/deliver", {"event_id": event["event_id"]})
        assert again["events"][0]["deliveries"] == 2
        assert again["events"][0]["status"] == 200  # acknowledged, so Square stops retrying
    # Two deliveries each, one effect each.
    assert [type(e) for e in stack.handled] == [OrderChanged, InventoryChanged]
    sent = stack.sandbox.events[-1]
    status, payload = await stack.post_webhook(
        sent.body, {SIGNATURE_HEADER: sign_square(SIGNATURE_KEY, PUBLIC_URL, sent.body)}
    )
    assert (status, payload["applied"], payload["duplicates"]) == (200, 0, 1)


async def test_an_older_count_never_overwrites_a_newer_one(stack: Stack) -> None:
    sku = stack.stocked_sku("BKN")
    bkn = stack.world.locations_by_code["BKN"]
    store = stack.services.store
    # Count A (older) is held back; count B (newer) is delivered; then A arrives late.
    older = await stack.control(
        "inventory", {"sku": sku, "location_code": "BKN", "quantity": 30, "deliver": False}
    )
    newer = await stack.control("inventory", {"sku": sku, "location_code": "BKN", "quantity": 12})
    assert older["count"]["calculated_at"] < newer["count"]["calculated_at"]
    late = await stack.control("webhooks/deliver", {"event_id": older["events"][0]["event_id"]})
    assert late["events"][0]["status"] == 200
    # The late count was handled (a new event id, not a replay)...
    late_event = stack.handled[-1]
    assert isinstance(late_event, InventoryChanged)
    assert late_event.level is not None
    assert late_event.level.quantities["available"] == 30
    # ...but the store kept the newer one.
    (level,) = await store.inventory.get_stock([sku], [unified(bkn)])
    assert level.quantities["available"] == 12
    assert level.updated_at == parse_time(newer["count"]["calculated_at"])
    assert json.loads(stack.sandbox.events[-1].body)["type"] == "inventory.count.updated"


async def test_without_a_public_url_the_request_url_is_verified(base_world: DemoWorld) -> None:
    async for stack in _stack(base_world, public_url=None):
        result = await stack.control(
            "inventory", {"sku": stack.stocked_sku("SOH"), "location_code": "SOH", "delta": -1}
        )
        assert result["events"][0]["status"] == 200


async def test_a_signed_event_the_mapping_cannot_use_is_dead_lettered_with_a_200(
    stack: Stack,
) -> None:
    """Square retries every non-2xx answer for a day: a body that can never be applied is
    acknowledged and kept, with its signature header, for an operator to replay."""
    body = json.dumps(
        {
            "merchant_id": "6SSW7HV8K2ST5",
            "type": "customer.updated",
            "event_id": "evt-square-bad",
            "created_at": "2026-11-02T18:38:45Z",
            "data": {
                "type": "customer",
                "id": "C1",
                "object": {"customer": {"id": "C1", "email_address": 123}},
            },
        }
    ).encode()
    signature = {SIGNATURE_HEADER: sign_square(SIGNATURE_KEY, PUBLIC_URL, body)}
    status, payload = await stack.post_webhook(body, signature)
    assert (status, payload["ok"], payload["deadLettered"]) == (200, False, True)
    assert "email_address" in payload["reason"]
    (letter,) = await stack.services.store.webhooks.dead_letters()
    assert letter.source is Source("square")
    assert (letter.topic, letter.event_id) == ("customer.updated", "evt-square-bad")
    assert letter.headers == {SIGNATURE_HEADER.lower(): signature[SIGNATURE_HEADER]}
    assert stack.handled == []

    status, payload = await stack.post_webhook(body, signature)
    assert (status, payload["ok"], payload["duplicates"]) == (200, True, 1)
    assert await stack.services.store.webhooks.count_dead_letters() == 1
