"""Points earned and taken back through the sandboxes: a Shopify online order earns once
(however often its webhook comes), the points are spent at a Square store's till, a refund
through the Square control API claws back the refunded share of what that sale earned and
returns the share of the points it was paid with; a merge then an unmerge leaves both
accounts and ledgers as they were."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
import pytest_asyncio

from connectors.records import Source
from gateway.settings import TokenGrant
from sandboxes.demo import DemoWorld
from sandboxes.demo.world import PosSystem
from tests.e2e.conftest import Demo, boot
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOYALTY = """query($id: ID!) { customer(id: $id) { loyalty {
  points pendingPoints lifetimePoints qualifyingSpend spendToNextTier expiresAt
  tier { name multiplier } nextTier { name threshold }
  history(first: 100) { id kind points channel locationId orderRef reason }
} } }"""
REDEEM = """mutation($input: RedeemPointsInput!) {
  redeemPoints(input: $input) { id kind points channel locationId orderRef }
}"""


def square_store(world: DemoWorld) -> Any:
    return world.stores_running(PosSystem.SQUARE)[0]


def tokens(world: DemoWorld) -> dict[str, TokenGrant]:
    unified = f"shopify:{square_store(world).shopify_location_id}"
    return {"square-till": TokenGrant(role="staff", locations=[unified], name="square-till")}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Demo]:
    async for demo in boot(tokens, loyalty_sync_interval_seconds=0.05):
        yield demo


async def loyalty(demo: Demo, profile_id: str) -> dict[str, Any]:
    body = await demo.gql(LOYALTY, variables={"id": profile_id})
    assert "errors" not in body, body
    return body["data"]["customer"]["loyalty"]


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def omnichannel_member(demo: Demo) -> tuple[str, int, str]:
    """A person known to Shopify (with an email), to Square and to Klaviyo as one profile:
    their profile id, Shopify customer id and Square customer id."""
    identities = demo.app.state.services.store.identities
    shopify_by_person = {c.person_id: c for c in demo.world.shopify_customers if c.email}
    for square in demo.world.square_customers:
        shopify = shopify_by_person.get(square.person_id)
        if shopify is None:
            continue
        keys = [
            (Source("shopify"), f"gid://shopify/Customer/{shopify.id}"),
            (Source("square"), square.id),
        ]
        found = await identities.get_identities(keys)
        profiles = {found[k].profile_id for k in keys if k in found}
        if len(found) != 2 or len(profiles) != 1:
            continue
        profile_id = profiles.pop()
        linked = (await identities.identities_of([profile_id])).get(profile_id, [])
        if any(i.source == Source("klaviyo") for i in linked):
            return profile_id, shopify.id, square.id
    raise AssertionError("no omnichannel member in the demo")


def floor(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_FLOOR))


async def test_earned_online_spent_in_store_clawed_back_on_refund(stack: Demo) -> None:
    profile_id, shopify_id, square_id = await omnichannel_member(stack)
    start = await loyalty(stack, profile_id)
    # What the demo's orders earned at start-up adds up.
    assert start["points"] == sum(e["points"] for e in start["history"])
    assert start["tier"]["name"]
    rate = Decimal(start["tier"]["multiplier"])

    # An online order through Shopify: its webhook rebuilds the profile, which earns.
    sku = stack.world.stock[0].sku
    sale = await stack.control(
        "shopify",
        "POST",
        "/_sandbox/sales",
        json={"source_name": "web", "customer_id": shopify_id, "lines": [{"sku": sku}]},
    )
    assert sale["deliveries"][0]["status"] == 200
    earn_key = f"earn:shopify:order:{sale['order']['id']}"

    async def earned() -> bool:
        return any(e["id"] == earn_key for e in (await loyalty(stack, profile_id))["history"])

    await eventually(earned, "the Shopify order earned")
    after_online = await loyalty(stack, profile_id)
    (earn,) = [e for e in after_online["history"] if e["id"] == earn_key]
    total = Decimal(sale["order"]["total"])
    assert earn["kind"] == "EARN"
    assert earn["channel"] == "online"
    assert earn["points"] == floor(total * rate)
    assert after_online["points"] == start["points"] + earn["points"]

    # The vendor sends the order's webhook again, and a rebuild reads the order through the
    # API (a sync's path): nothing more is earned.
    resent = await stack.control(
        "shopify", "POST", "/_sandbox/webhooks/redeliver", json={"index": -2, "times": 3}
    )
    assert {d["topic"] for d in resent["deliveries"]} == {"orders/create"}
    refreshed = await stack.gql(
        "mutation($id: ID!) { refreshCustomer(id: $id) { id } }", variables={"id": profile_id}
    )
    assert "errors" not in refreshed, refreshed
    again = await loyalty(stack, profile_id)
    assert again["points"] == after_online["points"]
    assert [e["id"] for e in again["history"]].count(earn_key) == 1

    # A sale at a Square store, paid partly with points at its till.
    store = square_store(stack.world)
    unified_store = f"shopify:{store.shopify_location_id}"
    square_sale = await stack.control(
        "square",
        "POST",
        "/_sandbox/sale",
        json={"location": store.code, "customer_id": square_id, "lines": [{"sku": sku}]},
    )
    square_order = square_sale["order"]
    square_key = f"earn:square:order:{square_order['id']}"

    async def square_earned() -> bool:
        return any(e["id"] == square_key for e in (await loyalty(stack, profile_id))["history"])

    await eventually(square_earned, "the Square sale earned")
    before_redeem = await loyalty(stack, profile_id)
    redeemed = await stack.gql(
        REDEEM,
        token="square-till",
        variables={
            "input": {
                "customerId": profile_id,
                "points": 20,
                "idempotencyKey": f"till:{square_order['id']}",
                "locationId": unified_store,
                "orderRef": square_order["id"],
            }
        },
    )
    assert "errors" not in redeemed, redeemed
    assert redeemed["data"]["redeemPoints"]["channel"] == "in_store"
    spent = await loyalty(stack, profile_id)
    assert spent["points"] == before_redeem["points"] - 20

    # Half of the Square sale is refunded through Square's control API.
    square_total = Decimal(square_order["total_money"]["amount"]) / 100
    half = (square_total / 2).quantize(Decimal("0.01"))
    await stack.control(
        "square",
        "POST",
        "/_sandbox/refund",
        json={"order_id": square_order["id"], "amount": str(half)},
    )
    (square_earn,) = [e for e in spent["history"] if e["id"] == square_key]
    fraction = half / square_total
    clawed = floor(Decimal(square_earn["points"]) * fraction)
    returned = floor(Decimal(20) * fraction)

    async def clawed_back() -> bool:
        history = (await loyalty(stack, profile_id))["history"]
        return any(e["kind"] == "REFUND_CLAWBACK" for e in history)

    await eventually(clawed_back, "the refund clawed back")
    refunded = await loyalty(stack, profile_id)
    (claw,) = [e for e in refunded["history"] if e["kind"] == "REFUND_CLAWBACK"]
    (back,) = [
        e
        for e in refunded["history"]
        if e["kind"] == "REDEEM_REVERSAL" and e["orderRef"] == square_order["id"]
    ]
    assert (claw["points"], claw["orderRef"]) == (-clawed, square_order["id"])
    assert back["points"] == returned
    assert refunded["points"] == spent["points"] - clawed + returned
    assert refunded["points"] == sum(
        e["points"] for e in refunded["history"] if e["kind"] != "PENDING_EARN"
    )
    assert refunded["expiresAt"]

    # The new balance and tier reach the member's Klaviyo profile properties.
    linked = await stack.app.state.services.store.identities.identities_of([profile_id])
    (klaviyo_id,) = [i.source_id for i in linked[profile_id] if i.source == Source("klaviyo")]

    async def synced() -> bool:
        answer = await stack.control("klaviyo", "GET", f"/_sandbox/profiles?id={klaviyo_id}")
        found = answer["profiles"][0]["attributes"]["properties"]
        return (found.get("omnigate_loyalty_points"), found.get("omnigate_loyalty_tier")) == (
            refunded["points"],
            refunded["tier"]["name"],
        )

    await eventually(synced, "Klaviyo shows the new balance and tier")


MERGE = "mutation($ids: [ID!]!) { mergeCustomers(ids: $ids) { id } }"
UNMERGE = "mutation($id: ID!) { unmergeCustomer(id: $id) { id } }"
ADJUST = """mutation($id: ID!, $points: Int!) {
  adjustPoints(customerId: $id, points: $points, reason: "goodwill") { id }
}"""


async def test_a_merge_then_an_unmerge_restores_both_accounts(stack: Demo) -> None:
    profiles = stack.app.state.services.store.profiles
    found = await profiles.find_profiles(name_prefix="m", limit=20)
    members = []
    for doc in found:
        account = await loyalty(stack, doc.id)
        if account["points"] > 0:
            members.append(doc.id)
    a, b = members[:2]
    await stack.gql(ADJUST, variables={"id": b, "points": 7})
    before = {pid: await loyalty(stack, pid) for pid in (a, b)}

    merged = await stack.gql(MERGE, variables={"ids": [a, b]})
    assert merged["data"]["mergeCustomers"]["id"] == a
    joined = await loyalty(stack, a)
    assert joined["points"] == before[a]["points"] + before[b]["points"]
    assert joined["lifetimePoints"] == before[a]["lifetimePoints"] + before[b]["lifetimePoints"]
    assert {e["id"] for e in joined["history"]} == {
        e["id"] for pid in (a, b) for e in before[pid]["history"]
    }
    # The merged-away id has no account of its own any more.
    gone = await stack.gql(LOYALTY, variables={"id": b})
    assert gone["data"]["customer"] is None or codes(gone)

    await stack.gql(UNMERGE, variables={"id": a})
    for pid in (a, b):

        async def rebuilt(pid: str = pid) -> bool:
            body = await stack.gql(LOYALTY, variables={"id": pid})
            return bool(body.get("data", {}).get("customer"))

        await eventually(rebuilt, f"{pid} served again")
        assert await loyalty(stack, pid) == before[pid]


async def test_an_order_before_its_customer_earns_once_the_profile_exists(stack: Demo) -> None:
    ledger = stack.app.state.services.store.ledger
    identities = stack.app.state.services.store.identities
    hooks = await stack.control("square", "GET", "/_sandbox/webhooks")
    # Hold Square's webhooks back, so the order can be delivered before its customer.
    await stack.control("square", "POST", "/_sandbox/webhooks/target", json={"url": None})
    try:
        made = await stack.control(
            "square",
            "POST",
            "/_sandbox/customers",
            json={"given_name": "Ora", "family_name": "Early", "email_address": "ora@example.org"},
        )
        customer_id = made["customer"]["id"]
        store = square_store(stack.world)
        sku = stack.world.stock[0].sku
        sale = await stack.control(
            "square",
            "POST",
            "/_sandbox/sale",
            json={"location": store.code, "customer_id": customer_id, "lines": [{"sku": sku}]},
        )
    finally:
        await stack.control(
            "square", "POST", "/_sandbox/webhooks/target", json={"url": hooks["target"]}
        )
    order_id = sale["order"]["id"]
    key = f"earn:square:order:{order_id}"
    order_events = [e for e in sale["events"] if e["type"] == "order.updated"]
    for event in order_events:
        await stack.control(
            "square", "POST", "/_sandbox/webhooks/deliver", json={"event_id": event["event_id"]}
        )
    assert await ledger.get_entry(key) is None  # nobody to earn for yet

    (created,) = made["events"]
    await stack.control(
        "square", "POST", "/_sandbox/webhooks/deliver", json={"event_id": created["event_id"]}
    )

    async def earned() -> bool:
        return await ledger.get_entry(key) is not None

    await eventually(earned, "the early order earned once its customer was known")
    entry = await ledger.get_entry(key)
    found = await identities.get_identities([(Source("square"), customer_id)])
    assert entry is not None
    assert entry.account_id == found[(Source("square"), customer_id)].profile_id
    for event in order_events:  # the order's webhook again: still the one earn
        await stack.control(
            "square", "POST", "/_sandbox/webhooks/deliver", json={"event_id": event["event_id"]}
        )
    history = await loyalty(stack, entry.account_id)
    assert [e["id"] for e in history["history"]].count(key) == 1
