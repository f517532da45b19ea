"""Webhook signing (against independently computed and published vectors) and delivery."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from sandboxes.base.server import run_app
from sandboxes.base.webhooks import (
    SHOPIFY_SIGNATURE_HEADER,
    SQUARE_SIGNATURE_HEADER,
    WebhookSender,
    shopify_signer,
    sign_shopify,
    sign_square,
    square_signer,
)

BODY = b'{"inventory_item_id":271878346596884015,"location_id":53716844710,"available":12}'


def test_sign_shopify_matches_the_published_hmac_sha256_vector() -> None:
    # RFC-style test vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    expected_hex = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    signature = sign_shopify("key", b"The quick brown fox jumps over the lazy dog")
    assert base64.b64decode(signature).hex() == expected_hex


def test_sign_shopify_is_base64_hmac_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(b"shh", BODY, hashlib.sha256).digest()).decode()
    assert sign_shopify("shh", BODY) == expected
    assert sign_shopify(b"shh", BODY) == expected
    assert sign_shopify("shh", BODY + b" ") != expected


def test_sign_square_covers_the_notification_url_and_the_body() -> None:
    url = "https://gateway.example/webhooks/square"
    expected = base64.b64encode(
        hmac.new(b"sig-key", url.encode() + BODY, hashlib.sha256).digest()
    ).decode()
    assert sign_square("sig-key", url, BODY) == expected
    assert sign_square("sig-key", url + "/", BODY) != expected


@dataclass
class Receiver:
    url: str
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A stand-in gateway: records deliveries; ``/slow`` waits until released."""
    state = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        state.received.append((str(request.url), dict(request.headers), await request.read()))
        state.arrived.set()
        return web.json_response({"ok": True})

    async def slow(request: web.Request) -> web.Response:
        state.arrived.set()
        await state.release.wait()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks/{vendor}", hook)
    app.router.add_post("/slow", slow)
    async with run_app(app) as url:
        state.url = url
        yield state
        state.release.set()


async def test_shopify_delivery_arrives_signed_over_the_exact_bytes(receiver: Receiver) -> None:
    sender = WebhookSender(shopify_signer("demo-secret"))
    try:
        delivery = await sender.send(
            f"{receiver.url}/webhooks/shopify", BODY, {"X-Shopify-Topic": "inventory_levels/update"}
        )
    finally:
        await sender.close()
    assert delivery.delivered
    assert delivery.status == 200
    assert list(sender.deliveries) == [delivery]
    (_, headers, body) = receiver.received[0]
    assert body == BODY
    assert headers["X-Shopify-Topic"] == "inventory_levels/update"
    assert headers["Content-Type"] == "application/json"
    expected = base64.b64encode(hmac.new(b"demo-secret", BODY, hashlib.sha256).digest()).decode()
    assert headers[SHOPIFY_SIGNATURE_HEADER] == expected


async def test_square_delivery_is_signed_with_the_url_it_was_sent_to(receiver: Receiver) -> None:
    target = f"{receiver.url}/webhooks/square"
    sender = WebhookSender(square_signer("sq-key"), url=target)
    try:
        delivery = await sender.send(None, BODY)
    finally:
        await sender.close()
    assert delivery.url == target
    url, headers, body = receiver.received[0]
    assert url == target
    assert headers[SQUARE_SIGNATURE_HEADER] == sign_square("sq-key", url, body)


async def test_without_a_target_url_the_delivery_is_only_recorded() -> None:
    sender = WebhookSender(shopify_signer("s"))
    delivery = await sender.send(None, BODY, {"X-Shopify-Topic": "orders/create"})
    await sender.close()
    assert (delivery.url, delivery.status, delivery.error) == (None, None, "no target url")
    assert not delivery.delivered
    assert sender.deliveries[-1].headers["X-Shopify-Topic"] == "orders/create"


async def test_a_stuck_gateway_costs_at_most_the_timeout(receiver: Receiver) -> None:
    sender = WebhookSender(url=f"{receiver.url}/slow", timeout=0.2)
    started = time.perf_counter()
    delivery = await sender.send(None, BODY)
    elapsed = time.perf_counter() - started
    await sender.close()
    assert receiver.arrived.is_set()
    assert delivery.error == "timeout"
    assert delivery.status is None
    assert elapsed < 1.5


async def test_an_unreachable_gateway_is_recorded_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = WebhookSender(url=f"http://127.0.0.1:{port}/webhooks/x", timeout=2.0)
    delivery = await sender.send(None, BODY)
    await sender.close()
    assert delivery.status is None
    assert delivery.error is not None
    assert "Connect" in delivery.error


async def test_dispatch_runs_in_background_and_drain_waits(receiver: Receiver) -> None:
    sender = WebhookSender(shopify_signer("k"), url=f"{receiver.url}/webhooks/shopify")
    tasks = [sender.dispatch(None, BODY + bytes([48 + i])) for i in range(3)]
    await sender.drain()
    assert all(task.done() for task in tasks)
    assert len(receiver.received) == 3
    assert all(d.delivered for d in sender.deliveries)
    await sender.close()


async def test_attach_closes_the_sender_with_the_sandbox(receiver: Receiver) -> None:
    app = web.Application()
    sender = WebhookSender(url=f"{receiver.url}/webhooks/shopify")
    sender.attach(app)
    async with run_app(app):
        sender.dispatch(None, BODY)
    assert len(receiver.received) == 1  # cleanup drained the pending delivery
    assert sender.deliveries[-1].delivered
