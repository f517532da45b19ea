"""Staff tokens bound to one store, field by field, over the whole stack.

The rule (``resolvers/customers/visibility.py``, docs/customer-360.md): a store-bound staff
token sees customers with activity at its stores, and those it finds at the counter by exact
email or phone; of those, its stores' orders in full and the others as summaries. Three
people from the demo data: one who bought only at other stores, one who bought at the
token's store (and elsewhere), one of another store found by exact email.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from connectors.shopify.ids import location_id
from gateway.auth import Authenticator
from gateway.demo import STORE_STAFF_TOKEN, store_staff_grant
from gateway.settings import TokenGrant
from resolvers.customers.profile import UnifiedProfile, from_body
from sandboxes.demo import DemoWorld
from tests.e2e.conftest import Demo, boot
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Each field of Customer that carries personal data or orders, as selected in a test.
FIELDS = {
    "displayName": "displayName",
    "emails": "emails",
    "phones": "phones",
    "addresses": "addresses { line1 city postalCode }",
    "identities": "identities { source id }",
    "consent": "consent { email { state } sms { state } }",
    "stats": "stats { orderCount lifetimeValue { amount } favouriteLocation { id } }",
    "marketing": "marketing { lastEventAt }",
    "orders": "orders(first: 100) { totalCount edges { node { id name summary "
    "location { id } lineItems { title } total { amount } refundState createdAt } } }",
    "possibleDuplicates": "possibleDuplicates { customerId reason }",
}


def store_ids(world: DemoWorld) -> dict[str, list[str]]:
    """Each store's unified location id, as a retailer would bind a store's staff token: its
    Shopify location's (the demo maps a store's Square location onto it, so a store that
    runs both is one location)."""
    return {loc.code: [location_id(loc.shopify_location_id)] for loc in world.locations}


def tokens(world: DemoWorld) -> dict[str, TokenGrant]:
    return {
        f"staff-{code}": TokenGrant(role="staff", locations=ids, name=f"staff-{code}")
        for code, ids in store_ids(world).items()
    }


@dataclass
class Cast:
    token: str
    store: set[str]
    elsewhere: UnifiedProfile
    at_store: UnifiedProfile
    by_email: UnifiedProfile


async def all_profiles(demo: Demo) -> list[UnifiedProfile]:
    store = demo.app.state.services.store
    docs = {
        doc.id: doc
        for letter in "abcdefghijklmnopqrstuvwxyz"
        for doc in await store.profiles.find_profiles(name_prefix=letter, limit=10_000)
    }
    return [from_body(doc.body) for doc in docs.values() if doc.body]


def stores_of(p: UnifiedProfile) -> set[str]:
    """Where the person's orders were placed (read from the data, not from the code under
    test)."""
    return {o.location_id for o in p.orders if o.location_id}


def pick(world: DemoWorld, profiles: list[UnifiedProfile]) -> Cast:
    """A store, and the three people the tests need, chosen from the generated data."""
    for code, ids in sorted(store_ids(world).items()):
        here = set(ids)

        def outside(p: UnifiedProfile, here: set[str] = here) -> bool:
            return bool(stores_of(p)) and not here & stores_of(p) and bool(p.emails)

        elsewhere = [p for p in profiles if outside(p) and p.phones and p.addresses]
        mixed = [
            p
            for p in profiles
            if p.emails
            and any(o.location_id in here for o in p.orders)
            and any(o.location_id not in here for o in p.orders)
        ]
        if len(elsewhere) >= 2 and mixed:
            return Cast(f"staff-{code}", here, elsewhere[0], mixed[0], elsewhere[1])
    raise AssertionError("the demo data has no store with the people these tests need")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Demo]:
    async for stack in boot(tokens):
        yield stack


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cast(demo: Demo) -> Cast:
    return pick(demo.world, await all_profiles(demo))


def personal(profile: UnifiedProfile) -> list[str]:
    """Values that must not appear in an answer about this person."""
    values = [*profile.emails, *profile.phones, profile.display_name]
    values += [a.line1 for a in profile.addresses if a.line1]
    values += [o.name for o in profile.orders if o.name]
    return values


def assert_no_trace(body: dict[str, Any], profile: UnifiedProfile) -> None:
    text = str(body)
    for value in personal(profile):
        assert value not in text, value


async def by_id(demo: Demo, token: str, pid: str, selection: str) -> dict[str, Any]:
    return await demo.gql(
        f"query($id: ID!) {{ customer(id: $id) {{ id {selection} }} }}",
        token=token,
        variables={"id": pid},
    )


async def entity(demo: Demo, token: str, pid: str, selection: str) -> dict[str, Any]:
    return await demo.gql(
        "query($reps: [_Any!]!) { _entities(representations: $reps) "
        f"{{ ... on Customer {{ id {selection} }} }} }}",
        token=token,
        variables={"reps": [{"__typename": "Customer", "id": pid}]},
    )


async def lookup(demo: Demo, token: str, query: str, selection: str = "") -> dict[str, Any]:
    return await demo.gql(
        f"query($q: String!) {{ customerLookup(query: $q, first: 50) {{ id {selection} }} }}",
        token=token,
        variables={"q": query},
    )


async def test_customer_who_bought_only_elsewhere_is_refused_field_by_field(
    demo: Demo, cast: Cast
) -> None:
    pid = cast.elsewhere.id
    for name, selection in FIELDS.items():
        body = await by_id(demo, cast.token, pid, selection)
        assert body["data"]["customer"] is None, name
        assert codes(body) == ["FORBIDDEN"], (name, body)
        assert "no activity at this token's stores" in body["errors"][0]["message"]
        assert_no_trace(body, cast.elsewhere)


async def test_entities_refuse_a_customer_who_bought_only_elsewhere(demo: Demo, cast: Cast) -> None:
    for name, selection in FIELDS.items():
        body = await entity(demo, cast.token, cast.elsewhere.id, selection)
        assert body["data"]["_entities"] == [None], name
        assert codes(body) == ["FORBIDDEN"], name
        assert_no_trace(body, cast.elsewhere)


async def test_name_lookup_leaves_out_customers_of_other_stores(demo: Demo, cast: Cast) -> None:
    first = cast.elsewhere.first_name or cast.elsewhere.last_name
    assert first
    selection = "displayName emails phones"
    body = await lookup(demo, cast.token, first, selection)
    assert "errors" not in body, body
    assert cast.elsewhere.id not in {c["id"] for c in body["data"]["customerLookup"]}
    assert_no_trace(body, cast.elsewhere)
    # The same lookup with a token for every store finds them.
    everywhere = await lookup(demo, "demo-staff", first)
    assert cast.elsewhere.id in {c["id"] for c in everywhere["data"]["customerLookup"]}


async def test_name_lookup_finds_customers_of_the_store(demo: Demo, cast: Cast) -> None:
    name = " ".join(p for p in (cast.at_store.first_name, cast.at_store.last_name) if p)
    body = await lookup(demo, cast.token, name, "emails")
    assert "errors" not in body, body
    found = {c["id"]: c for c in body["data"]["customerLookup"]}
    assert found[cast.at_store.id]["emails"] == cast.at_store.emails


async def test_customer_who_bought_at_the_store_is_seen_field_by_field(
    demo: Demo, cast: Cast
) -> None:
    p = cast.at_store
    for name, selection in FIELDS.items():
        for body in (
            await by_id(demo, cast.token, p.id, selection),
            await entity(demo, cast.token, p.id, selection),
        ):
            assert "errors" not in body, (name, body)
    body = await by_id(demo, cast.token, p.id, " ".join(FIELDS.values()))
    customer = body["data"]["customer"]
    assert customer["emails"] == p.emails
    assert customer["phones"] == p.phones
    assert customer["displayName"] == p.display_name
    assert customer["stats"]["orderCount"] == p.order_count


async def test_orders_of_the_store_in_full_and_others_as_summaries(demo: Demo, cast: Cast) -> None:
    p = cast.at_store
    body = await by_id(demo, cast.token, p.id, FIELDS["orders"])
    nodes = [e["node"] for e in body["data"]["customer"]["orders"]["edges"]]
    assert len(nodes) == min(100, len(p.orders))
    full = [n for n in nodes if not n["summary"]]
    summaries = [n for n in nodes if n["summary"]]
    assert full
    assert summaries
    for node in full:
        assert node["location"]["id"] in cast.store
        assert node["lineItems"], node
    for node in summaries:
        assert node["location"] is None or node["location"]["id"] not in cast.store
        assert node["lineItems"] is None
        assert node["name"] is None
        assert node["total"]["amount"]
        assert node["createdAt"]
        assert node["refundState"]
    names = {o.name for o in p.orders if o.name and o.location_id not in cast.store}
    assert not names & {n["name"] for n in nodes}


async def test_exact_email_lookup_shows_a_customer_of_another_store(demo: Demo, cast: Cast) -> None:
    p = cast.by_email
    email = p.emails[0]
    for name, selection in FIELDS.items():
        body = await lookup(demo, cast.token, email.upper(), selection)
        assert "errors" not in body, (name, body)
        assert [c["id"] for c in body["data"]["customerLookup"]] == [p.id], name
    body = await lookup(demo, cast.token, f"  {email} ", " ".join(FIELDS.values()))
    found = body["data"]["customerLookup"][0]
    assert found["emails"] == p.emails
    assert found["phones"] == p.phones
    # No activity at this store: every order is a summary.
    nodes = [e["node"] for e in found["orders"]["edges"]]
    assert nodes
    assert all(n["summary"] and n["lineItems"] is None for n in nodes)
    # Found at the counter is not a standing grant: by id it stays refused.
    assert codes(await by_id(demo, cast.token, p.id, "emails")) == ["FORBIDDEN"]


async def test_exact_phone_lookup_shows_a_customer_of_another_store(demo: Demo, cast: Cast) -> None:
    p = cast.by_email
    body = await lookup(demo, cast.token, p.phones[0], "emails phones")
    assert "errors" not in body, body
    found = {c["id"]: c for c in body["data"]["customerLookup"]}
    assert found[p.id]["emails"] == p.emails


async def test_every_store_staff_and_internal_see_every_order_in_full(
    demo: Demo, cast: Cast
) -> None:
    for token in ("demo-staff", "demo-internal"):
        body = await by_id(demo, token, cast.elsewhere.id, f"emails {FIELDS['orders']}")
        assert "errors" not in body, body
        customer = body["data"]["customer"]
        assert customer["emails"] == cast.elsewhere.emails
        nodes = [e["node"] for e in customer["orders"]["edges"]]
        assert nodes
        assert not any(n["summary"] for n in nodes)
        assert all(n["lineItems"] is not None for n in nodes)


async def test_storefront_sees_all_of_its_own_customer_and_no_other(demo: Demo, cast: Cast) -> None:
    auth: Authenticator = demo.app.state.authenticator
    own = auth.issue_customer_token(cast.elsewhere.id)
    body = await demo.gql(
        f"{{ viewer {{ customer {{ id emails {FIELDS['orders']} }} }} }}",
        token="demo-storefront",
        headers={"X-Customer-Token": own},
    )
    assert "errors" not in body, body
    customer = body["data"]["viewer"]["customer"]
    assert customer["emails"] == cast.elsewhere.emails
    assert not any(e["node"]["summary"] for e in customer["orders"]["edges"])
    other = await demo.gql(
        "query($reps: [_Any!]!) { _entities(representations: $reps) "
        "{ ... on Customer { emails } } }",
        token="demo-storefront",
        headers={"X-Customer-Token": own},
        variables={"reps": [{"__typename": "Customer", "id": cast.at_store.id}]},
    )
    assert codes(other) == ["FORBIDDEN"]
    assert_no_trace(other, cast.at_store)


async def test_the_demo_store_token_is_bound_to_one_store(demo: Demo) -> None:
    """``demo-staff-store``, printed by ``make demo``, behaves as a tablet of its store."""
    name, grant = store_staff_grant(demo.world)
    store = next(loc for loc in demo.world.locations if loc.name == name)
    assert grant.locations == store_ids(demo.world)[store.code]
    here = set(grant.locations)
    profiles = await all_profiles(demo)
    elsewhere = next(p for p in profiles if stores_of(p) and not here & stores_of(p))
    at_store = next(p for p in profiles if here & stores_of(p) and p.emails)

    refused = await by_id(demo, STORE_STAFF_TOKEN, elsewhere.id, "emails")
    assert codes(refused) == ["FORBIDDEN"]
    seen = await by_id(demo, STORE_STAFF_TOKEN, at_store.id, "emails")
    assert seen["data"]["customer"]["emails"] == at_store.emails
