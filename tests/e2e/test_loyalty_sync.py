"""Loyalty to the email tool and across channels, through the demo stack: a member's new
points reach their Klaviyo profile's properties (read back from the sandbox's control API
with a bounded wait), also through Klaviyo failing for a while, and a redemption answers
while Klaviyo hangs; ``loyaltyFigures`` is for internal tokens and adds up the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from connectors.capabilities import MarketingSink
from connectors.records import Source
from gateway.settings import TokenGrant
from resolvers.loyalty.codes import member_code
from sandboxes.demo import DemoWorld
from tests.e2e.conftest import Demo, boot
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

KLAVIYO = Source("klaviyo")
ADJUST = """mutation($id: ID!, $points: Int!) {
  adjustPoints(customerId: $id, points: $points, reason: "e2e") { points }
}"""
REDEEM = """mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { points } }"""
BALANCE = """query($id: ID!) { customer(id: $id) { loyalty { points } } }"""
FIGURES = """query($from: DateTime, $to: DateTime) { loyaltyFigures(from: $from, to: $to) {
  earnedByChannel { channel points } redeemedByChannel { channel points }
  redeemedPoints crossChannelPoints crossChannelShare
} }"""
#: How long a property may take to reach the sandbox before the test gives up.
PATIENCE = 30.0


def tokens(world: DemoWorld) -> dict[str, TokenGrant]:
    store = f"shopify:{world.stores[0].shopify_location_id}"
    return {"till": TokenGrant(role="staff", locations=[store], name="till")}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Demo]:
    # A circuit Klaviyo's 503s open is tried again after a second, not 30: the tests wait
    # for the retries, not for the breaker.
    async for demo in boot(tokens, loyalty_sync_interval_seconds=0.05, breaker_reset_seconds=1):
        yield demo


async def klaviyo_members(demo: Demo, count: int) -> list[tuple[str, str]]:
    """(unified customer id, Klaviyo profile id) of demo customers linked to Klaviyo."""
    keys = [(KLAVIYO, p.id) for p in demo.world.klaviyo_profiles]
    linked = await demo.app.state.services.store.identities.get_identities(keys)
    found = sorted({(i.profile_id, i.source_id) for i in linked.values()})
    assert len(found) >= count
    return found[:count]


async def properties(demo: Demo, klaviyo_id: str) -> dict[str, Any]:
    answer = await demo.control("klaviyo", "GET", f"/_sandbox/profiles?id={klaviyo_id}")
    (profile,) = answer["profiles"]
    found: dict[str, Any] = profile["attributes"]["properties"]
    return found


async def shows(demo: Demo, klaviyo_id: str, points: int) -> dict[str, Any]:
    """The profile's properties once they show ``points`` (polled, at most PATIENCE s)."""
    async with asyncio.timeout(PATIENCE):
        while True:
            found = await properties(demo, klaviyo_id)
            if found.get("omnigate_loyalty_points") == points:
                return found
            await asyncio.sleep(0.05)


async def balance(demo: Demo, customer_id: str) -> int:
    body = await demo.gql(BALANCE, variables={"id": customer_id})
    points: int = body["data"]["customer"]["loyalty"]["points"]
    return points


async def test_new_points_reach_the_klaviyo_profile(stack: Demo) -> None:
    assert stack.app.state.loyalty_expiry.running  # started with the app, as the sync is
    ((customer, klaviyo_id),) = await klaviyo_members(stack, 1)
    before = await properties(stack, klaviyo_id)
    body = await stack.gql(ADJUST, variables={"id": customer, "points": 250})
    assert "errors" not in body, body
    expected = await balance(stack, customer)
    found = await shows(stack, klaviyo_id, expected)
    assert found["omnigate_loyalty_member_code"] == member_code(customer)
    assert found["omnigate_loyalty_lifetime_points"] >= 250
    assert found["omnigate_loyalty_pending_points"] == 0
    assert "omnigate_loyalty_points_expire_at" in found
    for name, value in before.items():  # properties Omnigate does not own are kept
        if not name.startswith("omnigate_loyalty_"):
            assert found[name] == value


async def test_a_burst_for_many_members_arrives_after_klaviyo_fails_for_a_while(
    stack: Demo,
) -> None:
    members = await klaviyo_members(stack, 6)
    for route in ("update_profile", "bulk_import_profiles"):
        await stack.control(
            # 3 per route: 6 failures in a row open the circuit, while the writer's backoff
            # stays within PATIENCE on a loaded machine.
            "klaviyo",
            "POST",
            "/_sandbox/faults",
            json={"route": route, "mode": "503", "count": 3},
        )
    try:
        for customer, _ in members:
            body = await stack.gql(ADJUST, variables={"id": customer, "points": 40})
            assert "errors" not in body, body
        for customer, klaviyo_id in members:
            await shows(stack, klaviyo_id, await balance(stack, customer))
    finally:
        await stack.control("klaviyo", "DELETE", "/_sandbox/faults")


async def test_a_redemption_answers_while_klaviyo_hangs(stack: Demo) -> None:
    ((customer, klaviyo_id),) = (await klaviyo_members(stack, 8))[7:]
    await stack.gql(ADJUST, variables={"id": customer, "points": 100})
    await shows(stack, klaviyo_id, await balance(stack, customer))
    await stack.control(
        "klaviyo", "POST", "/_sandbox/faults", json={"route": "update_profile", "mode": "hang"}
    )
    (sink,) = stack.app.state.services.connectors.of(MarketingSink)
    writer = sink.writer  # type: ignore[attr-defined]  # Klaviyo's background writer
    try:
        await stack.gql(ADJUST, variables={"id": customer, "points": 10})
        async with asyncio.timeout(PATIENCE):
            await stack.app.state.loyalty_sync.idle()  # handed to the writer, which hangs
        assert writer.pending > 0
        body = await stack.gql(
            REDEEM,
            variables={"input": {"customerId": customer, "points": 30, "idempotencyKey": "k1"}},
        )
        assert "errors" not in body, body
        assert body["data"]["redeemPoints"]["points"] == -30
        assert writer.pending > 0  # answered while Klaviyo still had not
    finally:
        await stack.control("klaviyo", "DELETE", "/_sandbox/faults")
    await shows(stack, klaviyo_id, await balance(stack, customer))


async def test_loyalty_figures_are_internal_and_add_up(stack: Demo) -> None:
    members = await klaviyo_members(stack, 9)
    customer = members[8][0]
    await stack.gql(ADJUST, variables={"id": customer, "points": 100})
    redeemed = await stack.gql(
        REDEEM,
        variables={
            "input": {
                "customerId": customer,
                "points": 20,
                "idempotencyKey": "fig",
                "channel": "in_store",
                "locationId": f"shopify:{stack.world.stores[0].shopify_location_id}",
            }
        },
        token="till",
    )
    assert "errors" not in redeemed, redeemed
    body = await stack.gql(FIGURES)
    assert "errors" not in body, body
    figures = body["data"]["loyaltyFigures"]
    in_store = {r["channel"]: r["points"] for r in figures["redeemedByChannel"]}
    assert in_store.get("in_store", 0) >= 20  # the till's redemption counts in store
    assert 0 <= figures["crossChannelPoints"] <= figures["redeemedPoints"]
    assert 0.0 <= figures["crossChannelShare"] <= 1.0
    refused = await stack.gql(FIGURES, token="till")
    assert codes(refused) == ["FORBIDDEN"]
    backwards = await stack.gql(
        FIGURES, variables={"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    )
    assert codes(backwards) == ["BAD_USER_INPUT"]
