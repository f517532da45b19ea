"""A webhook is answered within its deadline even while the vendor the profile rebuild needs
hangs: the event is applied (its identities written), and the rebuild it started goes on in
the background under its own deadline. Shopify waits five seconds for an answer and retries
a slower one, so a webhook that waited for the rebuild would be delivered again and again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import Demo, boot
from tests.e2e.test_webhooks import buyer_with_profile


@pytest.fixture
async def demo() -> AsyncIterator[Demo]:
    async for stack in boot(webhook_deadline_seconds=0.5, refresh_deadline_seconds=3.0):
        yield stack


async def test_a_hanging_vendor_does_not_hold_the_webhook_answer(demo: Demo) -> None:
    customer_id, profile_id = await buyer_with_profile(demo)
    sku = demo.world.stock[0].sku
    await demo.control("shopify", "POST", "/_sandbox/faults", json={"route": "*", "mode": "hang"})

    sale = await demo.control(
        "shopify",
        "POST",
        "/_sandbox/sales",
        json={"source_name": "web", "customer_id": customer_id, "lines": [{"sku": sku}]},
    )

    [delivery] = [d for d in sale["deliveries"] if d["topic"] == "orders/create"]
    assert delivery["status"] == 200
    # Answered while the rebuild still waits on Shopify: it did not hold the delivery.
    assert demo.app.state.services.customers.rebuilding(profile_id)
    await demo.control("shopify", "DELETE", "/_sandbox/faults")
    await demo.app.state.services.customers.wait_idle()
    assert not demo.app.state.services.customers.rebuilding(profile_id)
