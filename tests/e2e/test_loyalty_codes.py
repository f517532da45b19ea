"""Member codes and referrals through GraphQL on the demo stack: a till finds the customer
in front of it by the code on their card (typed any way, even at a store they never bought
at), a merged-away member's card finds the survivor until an unmerge; a friend's referral
code entered at the till for a new customer pays both sides once; and a Shopify checkout
with the code as a discount code does the same, from the order's own data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from gateway.settings import TokenGrant
from resolvers.loaders import Loaders
from resolvers.loyalty.referrals import reward_referral
from sandboxes.demo import DemoWorld
from tests.e2e.conftest import Demo, boot
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

CODES = """query($id: ID!) { customer(id: $id) { referralCode loyalty {
  memberCode history(first: 100) { kind points } } } }"""
BY_CODE = """query($code: String!) { customerByMemberCode(code: $code) { id displayName } }"""
BY_ID = """query($id: ID!) { customer(id: $id) { displayName } }"""
LOOKUP = """query($q: String!) { customerLookup(query: $q) { id } }"""
REFER = """mutation($id: ID!, $code: String!, $at: ID) {
  recordReferral(customerId: $id, code: $code, locationId: $at) {
    id kind points channel locationId reason actor
  }
}"""
MERGE = """mutation($ids: [ID!]!) { mergeCustomers(ids: $ids) { id } }"""
UNMERGE = """mutation($id: ID!) { unmergeCustomer(id: $id) { id } }"""
LEDGER = """query($id: ID!) { customer(id: $id) { loyalty { history(first: 10) {
  id kind points channel orderRef reason } } } }"""


def here(world: DemoWorld) -> str:
    return f"shopify:{world.stores[0].shopify_location_id}"


def tokens(world: DemoWorld) -> dict[str, TokenGrant]:
    return {
        "till": TokenGrant(role="staff", locations=[here(world)], name="till"),
        # A store no demo customer ever bought at.
        "till-new-store": TokenGrant(role="staff", locations=["shopify:1"], name="new-store"),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack() -> AsyncIterator[Demo]:
    async for demo in boot(tokens):
        yield demo


async def members(demo: Demo, count: int, letters: str = "abcdm") -> list[str]:
    profiles = demo.app.state.services.store.profiles
    ids = sorted(
        {
            p.id
            for letter in letters
            for p in await profiles.find_profiles(name_prefix=letter, limit=20)
        }
    )
    assert len(ids) >= count
    return ids[:count]


async def codes_of(demo: Demo, customer_id: str) -> dict[str, Any]:
    body = await demo.gql(CODES, variables={"id": customer_id})
    assert "errors" not in body, body
    customer: dict[str, Any] = body["data"]["customer"]
    # What referrals paid (orders may earn points of their own).
    customer["loyalty"]["bonus"] = sum(
        e["points"] for e in customer["loyalty"]["history"] if e["kind"] == "REFERRAL_BONUS"
    )
    return customer


async def by_code(demo: Demo, code: str, token: str = "demo-internal") -> dict[str, Any]:
    return await demo.gql(BY_CODE, token=token, variables={"code": code})


async def test_a_till_finds_the_customer_by_the_code_on_their_card(stack: Demo) -> None:
    (member,) = await members(stack, 1)
    code = (await codes_of(stack, member))["loyalty"]["memberCode"]
    typed = f"{code[:5].lower()}-{code[5:]}"
    found = await by_code(stack, typed, token="till-new-store")
    assert found["data"]["customerByMemberCode"]["id"] == member
    assert found["data"]["customerByMemberCode"]["displayName"]
    # By id, the same till does not see them: the code is what the customer showed.
    assert codes(await stack.gql(BY_ID, token="till-new-store", variables={"id": member})) == [
        "FORBIDDEN"
    ]
    assert (await by_code(stack, "0000000000", token="till"))["data"] == {
        "customerByMemberCode": None
    }
    referral = (await codes_of(stack, member))["referralCode"]
    assert (await by_code(stack, referral))["data"] == {"customerByMemberCode": None}
    assert codes(await by_code(stack, "not-a-code")) == ["BAD_USER_INPUT"]
    assert codes(await by_code(stack, code, token="demo-storefront")) == ["FORBIDDEN"]


async def test_a_merged_away_members_card_keeps_working(stack: Demo) -> None:
    first, second = (await members(stack, 2, letters="st"))[:2]
    card = (await codes_of(stack, second))["loyalty"]["memberCode"]
    merged = await stack.gql(MERGE, variables={"ids": [first, second]})
    assert merged["data"]["mergeCustomers"]["id"] == first
    assert (await by_code(stack, card))["data"]["customerByMemberCode"]["id"] == first
    await stack.gql(UNMERGE, variables={"id": first})
    assert (await by_code(stack, card))["data"]["customerByMemberCode"]["id"] == second


async def new_customer(demo: Demo, email: str) -> str:
    """A Shopify customer created now (the webhook links them): no orders yet."""
    created = await demo.control(
        "shopify",
        "POST",
        "/_sandbox/customers",
        json={"email": email, "first_name": "New", "last_name": "Comer"},
    )
    body = await demo.gql(LOOKUP, variables={"q": email})
    assert "errors" not in body, body
    (found,) = body["data"]["customerLookup"]
    assert created["customer"]["id"]
    return str(found["id"])


async def test_a_referral_entered_at_the_till_pays_both_sides_once(stack: Demo) -> None:
    (friend,) = await members(stack, 1, letters="k")
    newcomer = await new_customer(stack, "new.comer@example.org")
    code = (await codes_of(stack, friend))["referralCode"]
    variables = {"id": newcomer, "code": code.lower(), "at": here(stack.world)}
    first = await stack.gql(REFER, token="till", variables=variables)
    assert "errors" not in first, first
    again = await stack.gql(REFER, token="till", variables=variables)  # a retried tap
    assert first["data"]["recordReferral"] == again["data"]["recordReferral"]
    entries = first["data"]["recordReferral"]
    assert [(e["kind"], e["points"], e["channel"], e["actor"]) for e in entries] == [
        ("REFERRAL_BONUS", 500, "in_store", "till"),
        ("REFERRAL_BONUS", 500, "in_store", "till"),
    ]
    assert code in entries[0]["reason"]
    assert (await codes_of(stack, newcomer))["loyalty"]["bonus"] == 500
    assert (await codes_of(stack, friend))["loyalty"]["bonus"] == 500

    own = {"id": friend, "code": code, "at": here(stack.world)}
    old = (await members(stack, 1))[0]
    refused = {
        "own code": await stack.gql(REFER, token="till", variables=own),
        "old customer": await stack.gql(REFER, token="till", variables={**variables, "id": old}),
        "other store": await stack.gql(REFER, token="till-new-store", variables=variables),
        "no such code": await stack.gql(
            REFER, token="till", variables={**variables, "code": "0000000000"}
        ),
        "storefront": await stack.gql(REFER, token="demo-storefront", variables=variables),
    }
    assert {k: codes(v) for k, v in refused.items()} == {
        "own code": ["BAD_USER_INPUT"],
        "old customer": ["BAD_USER_INPUT"],
        "other store": ["FORBIDDEN"],
        "no such code": ["NOT_FOUND"],
        "storefront": ["FORBIDDEN"],
    }
    assert (await codes_of(stack, friend))["loyalty"]["bonus"] == 500


async def test_a_checkout_with_the_referral_code_pays_both_sides_once(stack: Demo) -> None:
    (friend,) = await members(stack, 1, letters="r")
    newcomer = await new_customer(stack, "first.order@example.org")
    code = (await codes_of(stack, friend))["referralCode"]
    shopify_id = next(
        i.source_id
        for i in (await stack.app.state.services.store.identities.identities_of([newcomer]))[
            newcomer
        ]
        if i.source == "shopify"
    )
    warehouse = next(s for s in stack.world.stock if s.location_code == "WHS" and s.available)
    sale = await stack.control(
        "shopify",
        "POST",
        "/_sandbox/sales",
        json={
            "source_name": "web",
            "customer_id": shopify_id,
            "lines": [{"sku": warehouse.sku}],
            "discount_codes": ["WELCOME5", code],
        },
    )
    assert all(d["status"] == 200 for d in sale["deliveries"]), sale
    services = stack.app.state.services
    await services.customers.wait_idle()
    # The webhook's rebuild paid both sides; a replay (or another rebuild) pays nothing more.
    built = await services.customers.refresh(newcomer, Loaders())
    assert built is not None
    served = await services.customers.serve(built, newcomer, Loaders())
    assert served is not None
    assert await reward_referral(services, newcomer, served.profile.orders) == []
    ledger = (await stack.gql(LEDGER, variables={"id": newcomer}))["data"]["customer"]
    (entry,) = [e for e in ledger["loyalty"]["history"] if e["kind"] == "REFERRAL_BONUS"]
    assert entry["points"] == 500
    assert (entry["kind"], entry["channel"], entry["orderRef"]) == (
        "REFERRAL_BONUS",
        "online",
        sale["order"]["id"],
    )
    assert (await codes_of(stack, friend))["loyalty"]["bonus"] == 500
