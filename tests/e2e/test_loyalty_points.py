"""Points through GraphQL on the demo stack: an internal adjustment with its reason, staff
redeeming at their own store (a retry spends nothing more), a storefront for its own
customer only, 100 tills racing for the same points, a reversal given back once, and the
codes of every refusal. The ledger behind ``Customer.loyalty`` always adds up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from gateway.settings import TokenGrant
from sandboxes.demo import DemoWorld
from tests.e2e.conftest import Demo, boot
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADJUST = """mutation($id: ID!, $points: Int!, $reason: String!) {
  adjustPoints(customerId: $id, points: $points, reason: $reason) { id kind points reason actor }
}"""
REDEEM = """mutation($input: RedeemPointsInput!) {
  redeemPoints(input: $input) { id kind points locationId orderRef }
}"""
REVERSE = """mutation($id: ID!) { reverseRedemption(entryId: $id) { id kind points } }"""
LOYALTY = """query($id: ID!) { customer(id: $id) { loyalty {
  points pendingPoints lifetimePoints history(first: 100) { id kind points reason }
} } }"""


def store_ids(world: DemoWorld) -> tuple[str, str]:
    here, elsewhere = (f"shopify:{loc.shopify_location_id}" for loc in world.stores[:2])
    return here, elsewhere


def tokens(world: DemoWorld) -> dict[str, TokenGrant]:
    here, elsewhere = store_ids(world)
    return {
        "till-here": TokenGrant(role="staff", locations=[here], name="till-here"),
        "till-elsewhere": TokenGrant(role="staff", locations=[elsewhere]),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Demo]:
    # Orders earn nothing here: these tests start every balance at zero and move it by hand.
    async for demo in boot(tokens, loyalty_earn_rate=0):
        yield demo


async def members(demo: Demo, count: int) -> list[str]:
    profiles = demo.app.state.services.store.profiles
    ids = sorted(
        {
            p.id
            for letter in "abcdm"
            for p in await profiles.find_profiles(name_prefix=letter, limit=20)
        }
    )
    assert len(ids) >= count
    return ids[:count]


async def loyalty(demo: Demo, customer_id: str) -> dict[str, Any]:
    body = await demo.gql(LOYALTY, variables={"id": customer_id})
    assert "errors" not in body, body
    account: dict[str, Any] = body["data"]["customer"]["loyalty"]
    assert account["points"] == sum(
        e["points"] for e in account["history"] if e["kind"] != "PENDING_EARN"
    )
    return account


def redemption(customer_id: str, points: int, key: str, **more: Any) -> dict[str, Any]:
    return {"input": {"customerId": customer_id, "points": points, "idempotencyKey": key, **more}}


async def test_adjust_then_redeem_at_the_till_once(stack: Demo) -> None:
    (member,) = await members(stack, 1)
    here, _ = store_ids(stack.world)
    body = await stack.gql(
        ADJUST, variables={"id": member, "points": 100, "reason": "welcome gift"}
    )
    assert body["data"]["adjustPoints"]["reason"] == "welcome gift"
    assert body["data"]["adjustPoints"]["actor"] == "demo-internal"

    sale = redemption(member, 30, "till-7:sale-1", locationId=here, orderRef="R-1")
    first = await stack.gql(REDEEM, token="till-here", variables=sale)
    again = await stack.gql(REDEEM, token="till-here", variables=sale)  # the till retried
    assert first["data"]["redeemPoints"] == again["data"]["redeemPoints"]
    assert first["data"]["redeemPoints"]["points"] == -30
    account = await loyalty(stack, member)
    assert (account["points"], account["lifetimePoints"]) == (70, 100)

    refused = {
        "elsewhere": await stack.gql(
            REDEEM, token="till-elsewhere", variables=redemption(member, 1, "x", locationId=here)
        ),
        "no store": await stack.gql(
            REDEEM, token="till-here", variables=redemption(member, 1, "y")
        ),
        "anonymous storefront": await stack.gql(
            REDEEM, token="demo-storefront", variables=redemption(member, 1, "z")
        ),
        "too many": await stack.gql(
            REDEEM, token="till-here", variables=redemption(member, 71, "w", locationId=here)
        ),
    }
    assert {k: codes(v) for k, v in refused.items()} == {
        "elsewhere": ["FORBIDDEN"],
        "no store": ["FORBIDDEN"],
        "anonymous storefront": ["FORBIDDEN"],
        "too many": ["INSUFFICIENT_POINTS"],
    }
    assert (await loyalty(stack, member))["points"] == 70


async def test_a_storefront_redeems_for_its_own_customer(stack: Demo) -> None:
    mine, theirs = (await members(stack, 3))[1:]
    await stack.gql(ADJUST, variables={"id": mine, "points": 20, "reason": "test"})
    token = stack.app.state.authenticator.issue_customer_token(mine)
    headers = {"X-Customer-Token": token}
    own = await stack.gql(
        REDEEM, token="demo-storefront", variables=redemption(mine, 5, "cart-1"), headers=headers
    )
    assert own["data"]["redeemPoints"]["points"] == -5
    other = await stack.gql(
        REDEEM, token="demo-storefront", variables=redemption(theirs, 5, "cart-2"), headers=headers
    )
    assert codes(other) == ["FORBIDDEN"]
    assert (await loyalty(stack, mine))["points"] == 15


async def test_a_hundred_tills_race_for_the_same_points(stack: Demo) -> None:
    member = (await members(stack, 4))[3]
    here, _ = store_ids(stack.world)
    await stack.gql(ADJUST, variables={"id": member, "points": 100, "reason": "race"})
    bodies = await asyncio.gather(
        *(
            stack.gql(
                REDEEM,
                token="till-here",
                variables=redemption(member, 10, f"t{n}", locationId=here),
            )
            for n in range(100)
        )
    )
    won = [b for b in bodies if "errors" not in b]
    assert len(won) == 10
    assert all(codes(b) == ["INSUFFICIENT_POINTS"] for b in bodies if "errors" in b)
    assert (await loyalty(stack, member))["points"] == 0


async def test_a_reversal_gives_the_points_back_once(stack: Demo) -> None:
    member = (await members(stack, 5))[4]
    here, _ = store_ids(stack.world)
    await stack.gql(ADJUST, variables={"id": member, "points": 50, "reason": "test"})
    sale = await stack.gql(
        REDEEM, token="till-here", variables=redemption(member, 40, "s1", locationId=here)
    )
    entry = sale["data"]["redeemPoints"]["id"]
    first = await stack.gql(REVERSE, token="till-here", variables={"id": entry})
    second = await stack.gql(REVERSE, token="till-here", variables={"id": entry})
    assert first["data"]["reverseRedemption"] == second["data"]["reverseRedemption"]
    assert first["data"]["reverseRedemption"]["points"] == 40
    assert codes(await stack.gql(REVERSE, token="till-elsewhere", variables={"id": entry})) == [
        "FORBIDDEN"
    ]
    assert codes(await stack.gql(REVERSE, variables={"id": "redeem:nope"})) == ["NOT_FOUND"]
    account = await loyalty(stack, member)
    assert account["points"] == 50
    assert [e["kind"] for e in account["history"]][:2] == ["REDEEM_REVERSAL", "REDEEM"]


async def test_bad_adjustments_are_refused_with_codes(stack: Demo) -> None:
    (member,) = await members(stack, 1)
    cases = {
        "no reason": (ADJUST, {"id": member, "points": 5, "reason": "  "}, "demo-internal"),
        "zero": (ADJUST, {"id": member, "points": 0, "reason": "r"}, "demo-internal"),
        "unknown": (ADJUST, {"id": "cus_nope", "points": 5, "reason": "r"}, "demo-internal"),
        "staff": (ADJUST, {"id": member, "points": 5, "reason": "r"}, "till-here"),
    }
    got = {}
    for name, (query, variables, token) in cases.items():
        got[name] = codes(await stack.gql(query, token=token, variables=variables))
    assert got == {
        "no reason": ["BAD_USER_INPUT"],
        "zero": ["BAD_USER_INPUT"],
        "unknown": ["NOT_FOUND"],
        "staff": ["FORBIDDEN"],
    }
