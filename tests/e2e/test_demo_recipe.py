"""docs/demo.md's "Watch a vendor fail", step by step, as the page tells a newcomer to run it,
so the page cannot drift from what the demo does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Demo, boot
from tests.support import codes

DEMO_MD = Path(__file__).resolve().parents[2] / "docs" / "demo.md"
# The page's own text: the store tablet example's customer, and the page's operations.
READ = '{ customerLookup(query: "ROGER.MORRIS@YAHOO.COM") { id cache { stale sources { source ok code } } } }'  # noqa: E501
REFRESH = 'mutation { refreshCustomer(id: "<id>") { cache { stale sources { source ok code } } } }'
HEALTH = "{ health { connectors { name circuit } } }"
FAULT_CURL = """curl -X POST $S/_sandbox/faults -d '{"route": "*", "mode": "500"}'"""
FAULT = {"route": "*", "mode": "500"}
MEND_CURL = "curl -X DELETE $S/_sandbox/faults"


def test_the_page_shows_the_steps_these_tests_run() -> None:
    page = DEMO_MD.read_text()
    for text in (READ, REFRESH, HEALTH, FAULT_CURL, MEND_CURL, "test_demo_recipe.py"):
        assert f"`{text}`" in page or text in page, text


def sources(cache: dict[str, Any]) -> dict[str, tuple[bool, str | None]]:
    return {s["source"]: (s["ok"], s["code"]) for s in cache["sources"]}


async def read(demo: Demo) -> tuple[dict[str, Any], dict[str, Any]]:
    body = await demo.gql(READ, token="demo-staff")
    [customer] = body["data"]["customerLookup"]
    return body, customer


def all_ok(cache: dict[str, Any]) -> bool:
    return all(ok and code is None for ok, code in sources(cache).values())


async def test_watch_a_vendor_fail_as_docs_demo_md_says(fresh_demo: Demo) -> None:
    demo = fresh_demo
    # 1. Read the customer: fresh, every source ok, no error.
    body, customer = await read(demo)
    assert "errors" not in body
    assert customer["cache"]["stale"] is False
    assert set(sources(customer["cache"])) == {"SHOPIFY", "SQUARE", "KLAVIYO"}
    assert all_ok(customer["cache"])
    customer_id = customer["id"]

    # 2. Break Square.
    await demo.control("square", "POST", "/_sandbox/faults", json=FAULT)

    # 3. Read again: the same answer, no error; Square was not asked.
    square_calls = demo.calls("square")
    body, customer = await read(demo)
    assert "errors" not in body
    assert customer["cache"]["stale"] is False
    assert demo.calls("square") == square_calls

    # 4. Force a rebuild: cached data kept, stale, Square not ok; no error on the mutation.
    body = await demo.gql(REFRESH.replace("<id>", customer_id), token="demo-internal")
    assert "errors" not in body
    cache = body["data"]["refreshCustomer"]["cache"]
    assert cache["stale"] is True
    assert sources(cache)["SQUARE"] == (False, "UPSTREAM_UNAVAILABLE")
    assert sources(cache)["SHOPIFY"] == (True, None)

    # 5. Read again: stale, with an error naming Square.
    body, customer = await read(demo)
    assert customer["cache"]["stale"] is True
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    [error] = body["errors"]
    assert error["extensions"]["source"] == "square"
    assert error["message"] == "square is unavailable; serving cached data"
    await demo.app.state.services.customers.wait_idle()  # the rebuild that read started

    # The recipe's own steps leave Square's circuit closed (the caveat is for more failures).
    health = await demo.gql(HEALTH, token=None)
    circuits = {c["name"]: c["circuit"] for c in health["data"]["health"]["connectors"]}
    assert circuits["square"] == "CLOSED"

    # 6. Mend Square: the next read still says what the last rebuild saw, and starts one...
    await demo.control("square", "DELETE", "/_sandbox/faults")
    body, customer = await read(demo)
    assert customer["cache"]["stale"] is True
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    # ... and a moment later (once that rebuild is done) the read is fresh, with no error.
    await demo.app.state.services.customers.wait_idle()
    body, customer = await read(demo)
    assert "errors" not in body
    assert customer["cache"]["stale"] is False
    assert all_ok(customer["cache"])


@pytest.fixture
async def twitchy_demo() -> AsyncIterator[Demo]:
    """A stack whose circuits open at the first failure, to show the page's caveat without
    making Square fail five times."""
    async for stack in boot(breaker_failures=1):
        yield stack


async def test_an_open_circuit_keeps_rebuilds_failing_after_the_fault_is_gone(
    twitchy_demo: Demo,
) -> None:
    demo = twitchy_demo
    _, customer = await read(demo)
    await demo.control("square", "POST", "/_sandbox/faults", json=FAULT)
    await demo.gql(REFRESH.replace("<id>", customer["id"]), token="demo-internal")
    health = await demo.gql(HEALTH, token=None)
    circuits = {c["name"]: c["circuit"] for c in health["data"]["health"]["connectors"]}
    assert circuits["square"] == "OPEN"

    await demo.control("square", "DELETE", "/_sandbox/faults")
    square_calls = demo.calls("square")
    body = await demo.gql(REFRESH.replace("<id>", customer["id"]), token="demo-internal")

    cache = body["data"]["refreshCustomer"]["cache"]
    assert cache["stale"] is True
    assert sources(cache)["SQUARE"] == (False, "UPSTREAM_UNAVAILABLE")
    assert demo.calls("square") == square_calls  # Square is not asked while it is open
