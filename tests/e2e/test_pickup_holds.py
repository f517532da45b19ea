"""Pickup holds through GraphQL on the demo stack: a unit a Square store's count reports
(through the Square sandbox's signed webhook), held for a storefront customer, cannot be
taken by a second hold, not even once picked up, until the POS's next count settles it;
staff complete only at their stores; the app's sweeper expires a hold when triggered (its
clock moved, no sleep)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from connectors.records import Source
from gateway.examples import load_examples
from gateway.settings import TokenGrant
from resolvers.model import StockLevel
from resolvers.stock.levels import store_level
from resolvers.stock.live import encode_cursor
from sandboxes.demo import DemoWorld, generate
from tests.e2e.conftest import PEOPLE, Demo, boot
from tests.e2e.ws import connect
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

CREATE = """
mutation Hold($input: CreatePickupHoldInput!) {
  createPickupHold(input: $input) {
    id status quantity customerId locationId expiresAt location { id name pickupEnabled }
    stock { available held sellableForPickup }
  }
}
"""


def square_store(world: DemoWorld) -> tuple[str, str]:
    """A store that runs Square: its Square location id and its Shopify twin's unified id."""
    store = next(loc for loc in world.stores if loc.square_location_id and loc.pickup_enabled)
    assert store.square_location_id is not None
    return store.square_location_id, f"shopify:{store.shopify_location_id}"


WORLD = generate(people=PEOPLE, seed=7)
SQUARE_ID, PICKUP_STORE = square_store(WORLD)
OTHER_STORE = next(
    f"shopify:{loc.shopify_location_id}"
    for loc in WORLD.stores
    if f"shopify:{loc.shopify_location_id}" != PICKUP_STORE
)
SKU = "HOLD-E2E-1"


def tokens(world: DemoWorld) -> dict[str, TokenGrant]:
    return {
        "staff-here": TokenGrant(role="staff", locations=[PICKUP_STORE]),
        "staff-elsewhere": TokenGrant(role="staff", locations=[OTHER_STORE]),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Demo]:
    # The demo maps each Square store onto its Shopify twin (as a retailer would with
    # OMNIGATE_SQUARE_LOCATION_MAP), so the store's Square stock and its pickup setting meet
    # at one unified id.
    async for demo in boot(tokens):
        assert demo.stack.settings.vendor("square").location_map[SQUARE_ID] == PICKUP_STORE
        yield demo


async def put_stock(demo: Demo, available: int) -> None:
    """A level as the Square store's count reports it, newer than any before, entering the
    store the way every vendor level does (``store_level``: safety stock, settlement)."""
    level = StockLevel(
        SKU, PICKUP_STORE, {"available": available}, datetime.now(UTC), source=Source("square")
    )
    await store_level(demo.app.state.services, level, cause="webhook")


def customer_headers(demo: Demo, customer_id: str) -> dict[str, str]:
    token = demo.app.state.authenticator.issue_customer_token(customer_id)
    return {"X-Customer-Token": token}


async def hold(demo: Demo, token: str, headers: dict[str, str] | None = None, **input: Any) -> Any:
    variables = {"input": {"sku": SKU, "locationId": PICKUP_STORE, **input}}
    return await demo.gql(CREATE, token=token, variables=variables, headers=headers or {})


async def square_count(demo: Demo, sku: str, quantity: int) -> None:
    """The Square store's count changes at the POS: the Square sandbox sends its signed
    ``inventory.count.updated`` webhook, which the gateway has applied when this returns."""
    sent = await demo.control(
        "square",
        "POST",
        "/_sandbox/inventory",
        json={"sku": sku, "location_id": SQUARE_ID, "quantity": quantity},
    )
    assert len(sent["events"]) == 1


async def test_a_held_unit_at_a_square_store_cannot_be_held_twice(stack: Demo) -> None:
    sku = next(
        row.sku
        for row in WORLD.stock
        if WORLD.locations_by_code[row.location_code].square_location_id == SQUARE_ID
    )
    await square_count(stack, sku, 1)
    first = await hold(stack, "demo-storefront", customer_headers(stack, "cust-a"), sku=sku)
    assert "errors" not in first, first
    made = first["data"]["createPickupHold"]
    assert made["status"] == "ACTIVE"
    assert made["customerId"] == "cust-a"
    assert made["location"]["id"] == PICKUP_STORE
    assert made["location"]["pickupEnabled"] is True
    assert made["stock"] == {"available": 1, "held": 1, "sellableForPickup": 0}

    second = await hold(stack, "demo-storefront", customer_headers(stack, "cust-b"), sku=sku)
    assert codes(second) == ["INSUFFICIENT_STOCK"]
    anonymous = await hold(stack, "demo-storefront", sku=sku)
    assert codes(anonymous) == ["INSUFFICIENT_STOCK"]

    # cust-b cannot see or release cust-a's hold; staff of another store cannot complete it.
    query = "query($id: ID!) { pickupHold(id: $id) { id status } }"
    other = await stack.gql(
        query,
        token="demo-storefront",
        variables={"id": made["id"]},
        headers=customer_headers(stack, "cust-b"),
    )
    assert codes(other) == ["FORBIDDEN"]
    complete = "mutation($id: ID!) { completePickupHold(id: $id) { status stock { held } } }"
    elsewhere = await stack.gql(complete, token="staff-elsewhere", variables={"id": made["id"]})
    assert codes(elsewhere) == ["FORBIDDEN"]
    by_storefront = await stack.gql(complete, token="demo-storefront", variables={"id": made["id"]})
    assert codes(by_storefront) == ["FORBIDDEN"]

    done = await stack.gql(complete, token="staff-here", variables={"id": made["id"]})
    assert done["data"]["completePickupHold"] == {"status": "COMPLETED", "stock": {"held": 1}}
    # Picked up but not yet counted by the POS: still not sellable to anyone else.
    assert codes(await hold(stack, "demo-storefront", sku=sku)) == ["INSUFFICIENT_STOCK"]

    await square_count(stack, sku, 0)  # the POS rings up the sale: its webhook settles it
    settled = await stack.gql(
        "query($id: ID!) { pickupHold(id: $id) { status stock { available held } } }",
        token="demo-internal",
        variables={"id": made["id"]},
    )
    assert settled["data"]["pickupHold"] == {
        "status": "SETTLED",
        "stock": {"available": 0, "held": 0},
    }


async def test_errors_carry_their_codes(stack: Demo) -> None:
    await put_stock(stack, 5)
    cases = {
        "BAD_USER_INPUT": {"quantity": 0},
        "UNKNOWN_LOCATION": {"locationId": "shopify:0"},
        "UNKNOWN_SKU": {"sku": "NO-SUCH-SKU"},
        "INSUFFICIENT_STOCK": {"quantity": 6},
        "FORBIDDEN": {"customerId": "someone-else"},
    }
    for code, input in cases.items():
        assert codes(await hold(stack, "demo-storefront", **input)) == [code], code
    warehouse = next(loc for loc in WORLD.locations if not loc.pickup_enabled)
    body = await hold(stack, "demo-internal", locationId=f"shopify:{warehouse.shopify_location_id}")
    assert codes(body) == ["PICKUP_NOT_ENABLED"]
    missing = await stack.gql(
        'mutation { releasePickupHold(id: "hold_nope") { id } }', token="demo-internal"
    )
    assert codes(missing) == ["HOLD_NOT_FOUND"]
    anonymous = await stack.gql('{ pickupHold(id: "hold_nope") { id } }', token=None)
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_the_app_sweeper_expires_a_hold_and_gives_its_units_back(stack: Demo) -> None:
    await put_stock(stack, 3)
    made = (await hold(stack, "demo-storefront", quantity=2, ttlMinutes=5))["data"]
    hold_id = made["createPickupHold"]["id"]
    sweeper = stack.app.state.hold_sweeper
    assert sweeper.running
    real_clock = sweeper.clock
    sweeper.clock = lambda: real_clock() + timedelta(minutes=6)
    try:
        finished = sweeper.next_pass()
        sweeper.trigger()
        summary = await finished
    finally:
        sweeper.clock = real_clock
    assert summary is not None
    assert summary.expired >= 1
    body = await stack.gql(
        "query($id: ID!) { pickupHold(id: $id) { status stock { held sellableForPickup } } }",
        token="demo-storefront",
        variables={"id": hold_id},
    )
    assert body["data"]["pickupHold"] == {
        "status": "EXPIRED",
        "stock": {"held": 0, "sellableForPickup": 3},
    }


async def test_the_graphiql_example_holds_and_replays(stack: Demo) -> None:
    example = next(e for e in load_examples() if e.title == "Hold for pickup")
    assert example.variables is not None
    variables = json.loads(example.variables)
    level = StockLevel(
        variables["sku"],
        variables["locationId"],
        {"available": 4},
        datetime.now(UTC),
        source=Source("square"),
    )
    await store_level(stack.app.state.services, level, cause="warmup")
    first = await stack.gql(example.query, token=example.token, variables=variables)
    assert "errors" not in first, first
    made = first["data"]["createPickupHold"]
    assert made["status"] == "ACTIVE"
    assert made["stock"]["held"] == 1
    again = await stack.gql(example.query, token=example.token, variables=variables)
    assert again["data"]["createPickupHold"]["id"] == made["id"]
    assert again["data"]["createPickupHold"]["stock"]["held"] == 1


async def test_customer_pickup_holds_lists_the_customers_own(stack: Demo) -> None:
    store = stack.app.state.services.store
    quirk = stack.world.quirks.upper_case_email[0]
    found = await store.identities.get_identities([(Source("square"), quirk.square_customer_id)])
    pid = found[(Source("square"), quirk.square_customer_id)].profile_id
    await put_stock(stack, 2)
    signed_in = customer_headers(stack, pid)
    made = await hold(stack, "demo-storefront", signed_in)  # no customerId: the token's
    hold_id = made["data"]["createPickupHold"]["id"]
    assert made["data"]["createPickupHold"]["customerId"] == pid

    query = "{ viewer { customer { id pickupHolds { id status customerId } } } }"
    own = await stack.gql(query, token="demo-storefront", headers=signed_in)
    assert "errors" not in own, own
    assert own["data"]["viewer"]["customer"]["pickupHolds"] == [
        {"id": hold_id, "status": "ACTIVE", "customerId": pid}
    ]
    internal = await stack.gql(
        "query($id: ID!) { customer(id: $id) { pickupHolds(first: 5) { id } } }",
        token="demo-internal",
        variables={"id": pid},
    )
    assert internal["data"]["customer"]["pickupHolds"] == [{"id": hold_id}]
    released = await stack.gql(
        "mutation($id: ID!) { releasePickupHold(id: $id) { status stock { held } } }",
        token="demo-storefront",
        variables={"id": hold_id},
        headers=signed_in,
    )
    assert released["data"]["releasePickupHold"] == {"status": "RELEASED", "stock": {"held": 0}}


LIVE = """
subscription Live($skus: [String!]!, $since: String) {
  stockChanged(skus: $skus, since: $since) { cause level { locationId available held } }
}
"""


async def test_a_stock_subscriber_sees_every_move_of_a_hold(stack: Demo) -> None:
    rows = [
        row
        for row in WORLD.stock
        if WORLD.locations_by_code[row.location_code].square_location_id == SQUARE_ID
    ]
    sku = rows[1].sku  # not the first test's
    seq = await stack.app.state.services.store.inventory.last_seq()
    mutation = "mutation($id: ID!) { %s(id: $id) { status } }"
    async with connect(stack.url, token="demo-storefront") as client:
        live = await client.subscribe(LIVE, {"skus": [sku], "since": encode_cursor(seq)})
        await square_count(stack, sku, 2)
        first = (await hold(stack, "demo-storefront", sku=sku))["data"]["createPickupHold"]
        released = {"id": first["id"]}
        await stack.gql(mutation % "releasePickupHold", token="demo-storefront", variables=released)
        second = (await hold(stack, "demo-storefront", sku=sku))["data"]["createPickupHold"]
        picked = {"id": second["id"]}
        await stack.gql(mutation % "completePickupHold", token="staff-here", variables=picked)
        await square_count(stack, sku, 1)  # the sale rung up: settles the picked-up hold
        seen = [await live.data("stockChanged") for _ in range(6)]
    assert [(e["cause"], e["level"]["available"], e["level"]["held"]) for e in seen] == [
        ("webhook", 2, 0),
        ("hold", 2, 1),
        ("release", 2, 0),
        ("hold", 2, 1),
        ("webhook", 1, 1),
        ("settlement", 1, 0),
    ]
    assert {e["level"]["locationId"] for e in seen} == {PICKUP_STORE}


PICKUP = """query($from: DateTime, $to: DateTime, $at: [ID!]) {
  analytics(from: $from, to: $to, locationIds: $at) {
    pickup { locationId holds units completed released expired active unitsPickedUp
             conversionRate expiryRate }
    pickupShare { pickedUpUnits onlineUnits share }
  }
}"""


async def pickup_row(demo: Demo) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = await demo.gql(
        PICKUP,
        variables={
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
            "at": [PICKUP_STORE],
        },
    )
    assert "errors" not in body, body
    rows = body["data"]["analytics"]["pickup"]
    assert {r["locationId"] for r in rows} <= {PICKUP_STORE}  # narrowed to the store asked
    share = body["data"]["analytics"]["pickupShare"]
    assert share["pickedUpUnits"] == sum(r["unitsPickedUp"] for r in rows)
    if share["onlineUnits"]:
        assert share["share"] == pytest.approx(share["pickedUpUnits"] / share["onlineUnits"])
    zero = dict.fromkeys(("holds", "units", "completed", "released", "expired", "active"), 0)
    return rows[0] if rows else {**zero, "unitsPickedUp": 0, "locationId": PICKUP_STORE}


async def test_analytics_counts_the_holds_made_and_finished_at_the_store(stack: Demo) -> None:
    sku = "HOLD-E2E-FIGURES"
    level = StockLevel(
        sku, PICKUP_STORE, {"available": 5}, datetime.now(UTC), source=Source("square")
    )
    await store_level(stack.app.state.services, level, cause="webhook")
    before = await pickup_row(stack)
    picked = await hold(
        stack, "demo-storefront", customer_headers(stack, "cust-f1"), sku=sku, quantity=2
    )
    dropped = await hold(stack, "demo-storefront", customer_headers(stack, "cust-f2"), sku=sku)
    assert "errors" not in picked, picked
    assert "errors" not in dropped, dropped
    done = await stack.gql(
        "mutation($id: ID!) { completePickupHold(id: $id) { status } }",
        token="staff-here",
        variables={"id": picked["data"]["createPickupHold"]["id"]},
    )
    assert "errors" not in done, done
    released = await stack.gql(
        "mutation($id: ID!) { releasePickupHold(id: $id) { status } }",
        token="demo-internal",
        variables={"id": dropped["data"]["createPickupHold"]["id"]},
    )
    assert "errors" not in released, released
    after = await pickup_row(stack)
    assert after["holds"] - before["holds"] == 2
    assert after["units"] - before["units"] == 3
    assert after["completed"] - before["completed"] == 1
    assert after["released"] - before["released"] == 1
    assert after["unitsPickedUp"] - before["unitsPickedUp"] == 2
    finished = after["completed"] + after["released"] + after["expired"]
    assert after["conversionRate"] == pytest.approx(after["completed"] / finished)
    assert after["expiryRate"] == pytest.approx(after["expired"] / finished)
    assert after["holds"] == finished + after["active"]


@pytest.mark.parametrize("first", [0, 51])
async def test_the_stock_figure_takes_1_to_50_skus(stack: Demo, first: int) -> None:
    body = await stack.gql(
        "query($first: Int!) { analytics { stock(first: $first) { sku } } }",
        variables={"first": first},
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == "first"
