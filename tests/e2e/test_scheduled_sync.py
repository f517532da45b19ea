"""Scheduled incremental sync with the whole stack running: a subscriber who exists only in
Klaviyo (which sends no webhook for one) reaches the graph with the next pass, and a pass
reads only what each vendor changed since its own checkpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio

from gateway.scheduler import SyncScheduler
from resolvers.customers.sync import source_checkpoint
from sandboxes.base.clock import SECOND, truncate
from sandboxes.klaviyo import SANDBOX as KLAVIYO
from sandboxes.shopify import SANDBOX as SHOPIFY
from sandboxes.square import SANDBOX as SQUARE
from tests.e2e.conftest import Demo, boot

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOOKUP = """
query Lookup($q: String!) {
  customerLookup(query: $q) { id displayName emails consent { email { state } } }
}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Demo]:
    # Scheduled, with a tick long enough that only the test's trigger starts a pass.
    async for stack in boot(sync_interval_seconds=3600):
        yield stack


def scheduler(demo: Demo) -> SyncScheduler:
    found: SyncScheduler = demo.app.state.scheduler
    return found


async def lookup(demo: Demo, query: str) -> list[dict[str, Any]]:
    body = await demo.gql(LOOKUP, variables={"q": query}, token="demo-staff")
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["customerLookup"]
    return found


async def test_a_klaviyo_only_subscriber_arrives_with_the_next_pass(demo: Demo) -> None:
    email = "nova.quill@example.org"
    assert await lookup(demo, email) == []
    await demo.control(
        "klaviyo",
        "POST",
        "/_sandbox/profiles",
        json={
            "email": email,
            "first_name": "Nova",
            "last_name": "Quill",
            "email_consent": "subscribed",
        },
    )
    assert await lookup(demo, email) == []  # Klaviyo sent nothing: the graph cannot know

    passed = scheduler(demo).next_pass()
    scheduler(demo).trigger()
    summary = await passed

    assert summary is not None
    assert summary.failed_sources == {}
    [found] = await lookup(demo, email)
    assert found["displayName"] == "Nova Quill"
    assert found["emails"] == [email]
    assert found["consent"]["email"]["state"] == "SUBSCRIBED"


async def checkpoints(demo: Demo) -> dict[str, datetime]:
    store = demo.app.state.services.store
    marks = {}
    for source in ("shopify", "square", "klaviyo"):
        value = await store.checkpoints.get_checkpoint(source_checkpoint(source))
        assert value is not None, source
        marks[source] = datetime.fromisoformat(value["updated_at"])
    return marks


def changed_since(demo: Demo, since: dict[str, datetime]) -> dict[str, int]:
    """What each sandbox holds that was updated since each source's ``since``, compared as
    each vendor's filter compares (Shopify: whole seconds, inclusive; Square: ``start_at``,
    inclusive; Klaviyo: ``greater-than``)."""
    shopify = demo.stack.apps["shopify"][SHOPIFY].state  # type: ignore[index]
    square = demo.stack.apps["square"][SQUARE].world  # type: ignore[index]
    klaviyo = demo.stack.apps["klaviyo"][KLAVIYO].store  # type: ignore[index]
    return {
        "shopify": sum(
            c.updated_at >= truncate(since["shopify"], SECOND) for c in shopify.customers()
        ),
        "square": sum(c.updated_at >= since["square"] for c in square.square_customers),
        "klaviyo": sum(p.updated > since["klaviyo"] for p in klaviyo.profiles.values()),
    }


async def test_a_pass_reads_only_what_changed_since_each_checkpoint(demo: Demo) -> None:
    before = await checkpoints(demo)
    await demo.control(
        "shopify",
        "POST",
        "/_sandbox/customers",
        json={"email": "ivo.marsh@example.org", "first_name": "Ivo", "last_name": "Marsh"},
    )
    await demo.control(
        "square",
        "POST",
        "/_sandbox/customers",
        json={"email_address": "Rue.Tan@Example.org", "given_name": "Rue", "family_name": "Tan"},
    )
    await demo.control(
        "klaviyo", "POST", "/_sandbox/profiles", json={"email": "ola.fenn@example.org"}
    )

    passed = scheduler(demo).next_pass()
    scheduler(demo).trigger()
    summary = await passed

    assert summary is not None
    overlap = scheduler(demo).overlap
    assert summary.since == {
        source: (mark - overlap).replace(microsecond=0) for source, mark in before.items()
    }
    expected = changed_since(demo, {s: at for s, at in summary.since.items() if at})
    assert summary.records == expected
    # Each vendor's new record is in, and the pass read a small part of what a backfill does.
    assert all(count >= 1 for count in expected.values())
    world = demo.world
    assert summary.records["shopify"] * 20 < len(world.shopify_customers)
    assert summary.records["square"] * 20 < len(world.square_customers)
    assert summary.records["klaviyo"] * 20 < len(world.klaviyo_profiles)
    for email in ("ivo.marsh@example.org", "rue.tan@example.org", "ola.fenn@example.org"):
        assert len(await lookup(demo, email)) == 1, email
    # And the checkpoints moved on to what this pass read.
    after = await checkpoints(demo)
    assert all(after[s] > before[s] for s in ("shopify", "square", "klaviyo"))
