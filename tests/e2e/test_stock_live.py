"""``stockChanged`` end to end: the demo stack on loopback, a graphql-transport-ws client
(tests/e2e/ws.py), and signed inventory webhooks sent by the Shopify and Square sandboxes'
control APIs. Every wait is on an event, bounded by a timeout; nothing sleeps."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.app import create_app
from gateway.examples import load_examples
from resolvers.model import StockLevel
from resolvers.stock.levels import store_level
from resolvers.stock.live import decode_cursor, encode_cursor
from sandboxes.demo.world import StockLevel as DemoStock
from tests.e2e.conftest import Demo
from tests.e2e.ws import OperationEnded, connect
from tests.support import listening_socket, make_settings, serve

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUBSCRIPTION = """
subscription Live($skus: [String!]!, $locationIds: [ID!], $since: String) {
  stockChanged(skus: $skus, locationIds: $locationIds, since: $since) {
    cursor resync cause
    level { sku locationId available onHand held sellableForPickup version updatedAt source }
  }
}
"""


async def from_now(demo: Demo, skus: list[str]) -> dict[str, Any]:
    """Variables that subscribe to ``skus`` from the store's journal position now. With
    ``since`` a change made after this call reaches the subscriber even if it is made before
    the gateway has registered the subscription (a test must not race that; a client can
    resubscribe with its last cursor)."""
    seq = await demo.app.state.services.store.inventory.last_seq()
    return {"skus": skus, "since": encode_cursor(seq)}


def stocked_at(demo: Demo, *, square: bool, skip: int = 0) -> DemoStock:
    """A demo stock row at a store whose count the named vendor keeps (its sandbox's control
    API sends the webhook), ``skip`` rows in, so each test moves a SKU of its own."""
    rows = []
    for row in demo.world.stock:
        location = demo.world.locations_by_code[row.location_code]
        if square == bool(location.square_location_id) and row.available > 0:
            rows.append(row)
    return rows[skip]


async def shopify_count(demo: Demo, row: DemoStock, available: int) -> dict[str, Any]:
    result = await demo.control(
        "shopify",
        "POST",
        "/_sandbox/inventory",
        json={"sku": row.sku, "location": row.location_code, "available": available},
    )
    assert [d["status"] for d in result["deliveries"]] == [200], result
    level: dict[str, Any] = result["level"]
    return level


async def square_count(demo: Demo, row: DemoStock, quantity: int) -> dict[str, Any]:
    result = await demo.control(
        "square",
        "POST",
        "/_sandbox/inventory",
        json={"sku": row.sku, "location_code": row.location_code, "quantity": quantity},
    )
    return result


async def test_a_signed_shopify_webhook_reaches_the_subscriber_with_the_new_level(
    demo: Demo,
) -> None:
    row = stocked_at(demo, square=False)
    async with connect(demo.url, token="demo-storefront") as client:
        live = await client.subscribe(SUBSCRIPTION, await from_now(demo, [row.sku]))
        sent = await shopify_count(demo, row, row.available + 7)
        event = await live.data("stockChanged")
    level = event["level"]
    assert (event["resync"], event["cause"]) == (False, "webhook")
    assert (level["sku"], level["locationId"]) == (row.sku, sent["location_id"])
    assert level["available"] == row.available + 7
    assert level["source"] == "SHOPIFY"
    assert level["sellableForPickup"] == row.available + 7 - level["held"]
    assert decode_cursor(event["cursor"]) > 0


async def test_a_signed_square_webhook_reaches_the_subscriber_with_the_new_level(
    demo: Demo,
) -> None:
    row = stocked_at(demo, square=True)
    async with connect(demo.url, token="demo-staff", in_header=True) as client:
        live = await client.subscribe(SUBSCRIPTION, await from_now(demo, [row.sku]))
        await square_count(demo, row, row.available + 3)
        event = await live.data("stockChanged")
    assert event["cause"] == "webhook"
    assert event["level"]["sku"] == row.sku
    assert event["level"]["available"] == row.available + 3
    assert event["level"]["source"] == "SQUARE"


async def test_a_subscriber_that_reconnects_with_its_cursor_gets_every_missed_change(
    demo: Demo,
) -> None:
    row = stocked_at(demo, square=False, skip=1)
    other = stocked_at(demo, square=False, skip=2)
    async with connect(demo.url, token="demo-storefront") as client:
        live = await client.subscribe(SUBSCRIPTION, await from_now(demo, [row.sku]))
        await shopify_count(demo, row, 50)
        last = await live.data("stockChanged")
    # Disconnected: five changes of its SKU (and some of another) happen meanwhile.
    missed = [51, 52, 53, 54, 55]
    for n in missed:
        await shopify_count(demo, row, n)
        await shopify_count(demo, other, n)
    async with connect(demo.url, token="demo-storefront") as client:
        resumed = await client.subscribe(SUBSCRIPTION, {"skus": [row.sku], "since": last["cursor"]})
        replayed = [await resumed.data("stockChanged") for _ in missed]
        await shopify_count(demo, row, 60)  # then live ones
        after = await resumed.data("stockChanged")
        extra = resumed.messages.qsize()
    assert [e["level"]["available"] for e in replayed] == missed
    assert {e["level"]["sku"] for e in replayed} == {row.sku}
    versions = [e["level"]["version"] for e in [last, *replayed, after]]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    cursors = [decode_cursor(e["cursor"]) for e in [last, *replayed, after]]
    assert cursors == sorted(cursors)
    assert after["level"]["available"] == 60
    assert extra == 0  # nothing twice


async def test_a_slow_subscriber_gets_a_resync_marker_while_a_fast_one_gets_everything() -> None:
    """The slow client stops reading its socket; the gateway's queue for it overflows and it
    reads a marker when it reads again. The fast client, on the same gateway, misses nothing.

    Its own gateway (no vendors needed: the changes are stored as a webhook stores them),
    with small socket buffers on both ends (no autotuning), so the push-back of a client that
    stops reading reaches the gateway within a few hundred events rather than megabytes."""
    sock, _ = listening_socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # accepted sockets inherit it
    app = create_app(
        make_settings(tokens={"internal": {"role": "internal"}}, stock_subscriber_queue=64)
    )
    services = app.state.services
    # Some 1,500 events fit in the sockets' and the client's buffers, then 64 in the queue.
    sku, location, count = "SLOW-1", "shopify:1", 3000
    clock = datetime(2030, 1, 1, tzinfo=UTC)
    async with (
        serve(app, sock) as url,
        connect(url, token="internal") as fast_client,
        connect(url, token="internal", small_buffer=True, reading=False) as slow_client,
    ):
        since = {"skus": [sku], "since": encode_cursor(await services.store.inventory.last_seq())}
        fast = await fast_client.subscribe(SUBSCRIPTION, since)
        slow = await slow_client.subscribe(SUBSCRIPTION, since)
        seen: list[dict[str, Any]] = []
        for n in range(count):
            level = StockLevel(sku, location, {"available": n}, clock + timedelta(seconds=n))
            assert await store_level(services, level, cause="webhook") is not None
            if n % 32 == 31:  # the fast client keeps up: wait for what it was sent so far
                while len(seen) < n + 1:
                    seen.append(await fast.data("stockChanged"))
        while len(seen) < count:
            seen.append(await fast.data("stockChanged"))
        assert [e["level"]["available"] for e in seen] == list(range(count))
        assert not any(e["resync"] for e in seen)

        slow_client.start_reading()
        got: list[dict[str, Any]] = []
        while not got or got[-1]["resync"] or got[-1]["level"]["available"] != count - 1:
            got.append(await slow.data("stockChanged"))
    markers = [e for e in got if e["resync"]]
    assert markers, "the slow subscriber was never told it fell behind"
    assert all(m["level"] is None and m["cause"] is None for m in markers)
    delivered = [e["level"]["available"] for e in got if not e["resync"]]
    assert delivered == sorted(set(delivered))  # what it did get is in order, once each
    assert len(delivered) < count
    # The marker's cursor resumes after the last change delivered before it.
    first = got.index(markers[0])
    assert decode_cursor(markers[0]["cursor"]) == decode_cursor(got[first - 1]["cursor"])


async def test_who_may_subscribe_and_what_arguments_are_refused(demo: Demo) -> None:
    async with connect(demo.url) as client:  # no token
        denied = await client.subscribe(SUBSCRIPTION, {"skus": ["X"]})
        with pytest.raises(OperationEnded) as ended:
            await denied.data("stockChanged")
        assert ended.value.codes == ["UNAUTHENTICATED"]
    async with connect(demo.url, token="demo-storefront") as client:
        for variables, code in [
            ({"skus": ["X"], "since": "garbage"}, "BAD_USER_INPUT"),
            ({"skus": []}, "BAD_USER_INPUT"),
            ({"skus": [f"S{n}" for n in range(101)]}, "BAD_USER_INPUT"),
        ]:
            refused = await client.subscribe(SUBSCRIPTION, variables)
            with pytest.raises(OperationEnded) as ended:
                await refused.data("stockChanged")
            assert ended.value.codes == [code], variables


async def test_the_live_stock_example_runs_over_a_websocket(demo: Demo) -> None:
    import json

    (example,) = [e for e in load_examples() if e.is_subscription]
    variables = json.loads(example.variables or "{}")
    row = next(
        r
        for r in demo.world.stock
        if r.sku in variables["skus"]
        and demo.world.locations_by_code[r.location_code].shopify_location_id
        and not demo.world.locations_by_code[r.location_code].square_location_id
    )
    async with connect(demo.url, token=example.token) as client:
        live = await client.subscribe(example.query, await from_now(demo, variables["skus"]))
        await shopify_count(demo, row, row.available + 1)
        event = await live.data("stockChanged")
    assert event["level"]["sku"] == row.sku
