"""The demo's sandboxes share one clock: a record made through each control API is stamped
by it, and an incremental sync since a wall-clock instant taken just before the changes
finds every vendor's change, Shopify's included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resolvers.customers.sync import sync_customers
from sandboxes.base.clock import SECOND, truncate
from sandboxes.klaviyo import SANDBOX as KLAVIYO
from sandboxes.shopify import SANDBOX as SHOPIFY
from sandboxes.square import SANDBOX as SQUARE
from tests.e2e.conftest import Demo

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_every_sandbox_stamps_with_the_one_clock(demo: Demo) -> None:
    clock = demo.stack.clock
    assert clock is not None
    before = datetime.now(UTC)
    shopify = await demo.control(
        "shopify",
        "POST",
        "/_sandbox/customers",
        json={"email": "cleo.hart@example.org", "first_name": "Cleo", "last_name": "Hart"},
    )
    shopify_id = int(shopify["customer"]["id"].rsplit("/", 1)[1])
    shopify_stamp = (
        demo.stack.apps["shopify"][SHOPIFY]
        .state.world.shopify_customers_by_id[  # type: ignore[index]
            shopify_id
        ]
        .updated_at
    )
    square = await demo.control(
        "square",
        "POST",
        "/_sandbox/customers",
        json={"email_address": "abe.moss@example.org", "given_name": "Abe"},
    )
    square_stamp = datetime.fromisoformat(square["customer"]["updated_at"])
    await demo.control(
        "klaviyo", "POST", "/_sandbox/profiles", json={"email": "ida.penn@example.org"}
    )
    klaviyo_profile = demo.stack.apps["klaviyo"][KLAVIYO].store.by_email("ida.penn@example.org")  # type: ignore[index]
    assert klaviyo_profile is not None
    klaviyo_stamp = klaviyo_profile.updated

    # Wall-clock time (Shopify in whole seconds), one time line in the order of the changes,
    # and the newest stamp is the shared clock's last.
    assert truncate(before, SECOND) <= shopify_stamp < square_stamp < klaviyo_stamp
    assert klaviyo_stamp == clock.last
    assert shopify_stamp > demo.world.now


async def test_a_sync_since_a_wall_clock_instant_finds_the_shopify_change(demo: Demo) -> None:
    services = demo.app.state.services
    before = datetime.now(UTC)
    await demo.control(
        "shopify",
        "POST",
        "/_sandbox/customers",
        json={"email": "tam.rowe@example.org", "first_name": "Tam", "last_name": "Rowe"},
    )
    await demo.control(
        "square",
        "POST",
        "/_sandbox/customers",
        json={"email_address": "lu.vance@example.org", "given_name": "Lu"},
    )

    summary = await sync_customers(services, since=before)

    assert summary.failed_sources == {}
    # Every record stamped since then, the new ones among them (Shopify asks in whole
    # seconds, inclusive, so a change earlier in the same second may come too).
    shopify = demo.stack.apps["shopify"][SHOPIFY].state  # type: ignore[index]
    changed = [c for c in shopify.customers() if c.updated_at >= truncate(before, SECOND)]
    assert "tam.rowe@example.org" in [c.email for c in changed]
    assert summary.records["shopify"] == len(changed)
    square = demo.stack.apps["square"][SQUARE].world  # type: ignore[index]
    changed_square = [c for c in square.square_customers if c.updated_at >= before]
    assert [c.email_address for c in changed_square] == ["lu.vance@example.org"]
    assert summary.records["square"] == 1
