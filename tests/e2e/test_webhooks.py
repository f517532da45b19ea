"""Webhooks over the whole stack: the demo's Shopify sandbox sells and asks for erasure with
signed deliveries; an attacker holding one captured delivery re-sends it under other headers.
Profiles come from the demo's start-up sync, as in production."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

import aiohttp
import pytest

from connectors.records import Source
from connectors.shopify.ids import gid
from connectors.shopify.vendor import DEMO_WEBHOOK_SECRET as SHOPIFY_SECRET
from sandboxes.base.webhooks import Delivery, WebhookSender, sign_shopify
from sandboxes.shopify import SANDBOX
from tests.e2e.conftest import Demo


def sender(demo: Demo) -> WebhookSender:
    sandbox: Any = demo.stack.apps["shopify"]
    sent: WebhookSender = sandbox[SANDBOX].sender
    return sent


async def buyer_with_profile(demo: Demo) -> tuple[int, str]:
    """A Shopify customer with an email whose profile the start-up sync built, and its id."""
    store = demo.app.state.services.store
    for customer in demo.world.shopify_customers:
        if not customer.email:
            continue
        key = (Source("shopify"), gid("Customer", customer.id))
        found = await store.identities.get_identities([key])
        if key in found:
            return customer.id, found[key].profile_id
    raise AssertionError("no synced Shopify customer")


async def profile_exists(demo: Demo, profile_id: str) -> bool:
    store = demo.app.state.services.store
    identities = (await store.identities.identities_of([profile_id])).get(profile_id, [])
    return bool(identities) and profile_id in await store.profiles.get_profiles([profile_id])


async def resend(demo: Demo, original: Delivery, **headers: str) -> tuple[int, dict[str, Any]]:
    """``original``'s exact body, correctly signed (the signature covers only the body), with
    its headers overridden by ``headers``."""
    sent = {**original.headers, **headers}
    sent["X-Shopify-Hmac-Sha256"] = sign_shopify(SHOPIFY_SECRET, original.body)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{demo.url}/webhooks/shopify", data=original.body, headers=sent) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_captured_order_body_replayed_as_customers_redact_erases_nobody(
    fresh_demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    demo = fresh_demo
    customer_id, profile_id = await buyer_with_profile(demo)
    sku = demo.world.stock[0].sku
    sale = await demo.control(
        "shopify",
        "POST",
        "/_sandbox/sales",
        json={"source_name": "web", "customer_id": customer_id, "lines": [{"sku": sku}]},
    )
    assert (sale["deliveries"][0]["topic"], sale["deliveries"][0]["status"]) == (
        "orders/create",
        200,
    )
    captured = next(
        d for d in sender(demo).deliveries if d.headers.get("X-Shopify-Topic") == "orders/create"
    )

    caplog.set_level(logging.INFO, logger="omnigate")
    status, answer = await resend(
        demo,
        captured,
        **{"X-Shopify-Topic": "customers/redact", "X-Shopify-Event-Id": str(uuid.uuid4())},
    )
    assert status == 200
    assert answer["applied"] == 0
    assert answer.get("replay") is True or answer.get("deadLettered") is True
    assert await profile_exists(demo, profile_id)
    assert "erased" not in caplog.text

    # The same body under its own topic and a fresh event id: a duplicate, applied once.
    status, answer = await resend(demo, captured, **{"X-Shopify-Event-Id": str(uuid.uuid4())})
    assert (status, answer["applied"], answer["duplicates"]) == (200, 0, 1)
    assert await profile_exists(demo, profile_id)


async def test_a_real_redact_erases_and_logs_the_event_identity(
    fresh_demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    demo = fresh_demo
    customer_id, profile_id = await buyer_with_profile(demo)
    email = demo.world.shopify_customers_by_id[customer_id].email
    assert email
    caplog.set_level(logging.INFO, logger="omnigate")

    result = await demo.control(
        "shopify",
        "POST",
        "/_sandbox/privacy",
        json={"topic": "customers/redact", "customer_id": customer_id},
    )
    (delivery,) = result["deliveries"]
    assert delivery["status"] == 200
    assert not await profile_exists(demo, profile_id)

    sent = sender(demo).deliveries[-1]
    digest = hashlib.sha256(sent.body).hexdigest()
    (record,) = [r for r in caplog.records if getattr(r, "erased_profiles", None) is not None]
    assert record.vendor == "shopify"  # type: ignore[attr-defined]
    assert record.topic == "customers/redact"  # type: ignore[attr-defined]
    assert record.event_id == delivery["event_id"]  # type: ignore[attr-defined]
    assert record.body_digest == digest  # type: ignore[attr-defined]
    assert record.erased_profiles == [profile_id]  # type: ignore[attr-defined]
    message = record.getMessage()
    for part in ("shopify", "customers/redact", delivery["event_id"], digest, profile_id):
        assert part in message
    assert email not in caplog.text
    assert email.lower() not in caplog.text.lower()
