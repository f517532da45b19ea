"""Each identity quirk of the demo dataset, resolved end to end: sandboxes in each vendor's
wire format -> connectors -> sync -> store -> GraphQL."""

from __future__ import annotations

import pytest

from connectors.records import Source
from tests.e2e.conftest import Demo

pytestmark = pytest.mark.asyncio(loop_scope="module")


def shopify(customer_id: int) -> tuple[Source, str]:
    return (Source("shopify"), f"gid://shopify/Customer/{customer_id}")


async def profiles(demo: Demo, *keys: tuple[Source, str]) -> list[str]:
    found = await demo.app.state.services.store.identities.get_identities(list(keys))
    assert set(found) == set(keys), f"not linked: {set(keys) - set(found)}"
    return [found[k].profile_id for k in keys]


async def test_upper_case_email_at_the_pos_is_the_same_person(demo: Demo) -> None:
    for q in demo.world.quirks.upper_case_email:
        assert q.pos_email != q.email
        assert q.pos_email.lower() == q.email
        ids = await profiles(
            demo,
            shopify(q.shopify_customer_id),
            (Source("square"), q.square_customer_id),
            (Source("klaviyo"), q.klaviyo_profile_id),
        )
        assert len(set(ids)) == 1


async def test_local_phone_format_is_normalised(demo: Demo) -> None:
    for q in demo.world.quirks.local_phone:
        ids = await profiles(
            demo, shopify(q.shopify_customer_id), (Source("square"), q.square_customer_id)
        )
        assert len(set(ids)) == 1
        body = await demo.gql(
            "query($q: String!) { customerLookup(query: $q) { id phones } }",
            variables={"q": q.pos_phone},
        )
        found = body["data"]["customerLookup"]
        assert ids[0] in [c["id"] for c in found]
        assert q.e164 in next(c["phones"] for c in found if c["id"] == ids[0])


async def test_person_with_two_emails_is_one_profile(demo: Demo) -> None:
    for q in demo.world.quirks.two_emails:
        ids = await profiles(
            demo,
            shopify(q.shopify_customer_id),
            (Source("square"), q.square_customer_id),
            (Source("klaviyo"), q.klaviyo_profile_id_a),
            (Source("klaviyo"), q.klaviyo_profile_id_b),
        )
        assert len(set(ids)) == 1
        body = await demo.gql(
            "query($id: ID!) { customer(id: $id) { emails } }", variables={"id": ids[0]}
        )
        assert set(body["data"]["customer"]["emails"]) >= {q.email_a, q.email_b}


async def test_family_sharing_a_phone_stays_two_people(demo: Demo) -> None:
    for q in demo.world.quirks.shared_phone:
        first = await profiles(
            demo, shopify(q.shopify_customer_ids[0]), (Source("square"), q.square_customer_ids[0])
        )
        second = await profiles(
            demo, shopify(q.shopify_customer_ids[1]), (Source("square"), q.square_customer_ids[1])
        )
        assert len(set(first)) == 1
        assert len(set(second)) == 1
        assert first[0] != second[0]
        body = await demo.gql(
            "query($id: ID!) { customer(id: $id) { possibleDuplicates { customerId reason } } }",
            variables={"id": first[0]},
        )
        flagged = body["data"]["customer"]["possibleDuplicates"]
        assert {"customerId": second[0], "reason": "shares a phone number"} in flagged


async def test_email_only_subscriber_has_a_profile_without_orders(demo: Demo) -> None:
    for q in demo.world.quirks.subscriber_only:
        [pid] = await profiles(demo, (Source("klaviyo"), q.klaviyo_profile_id))
        body = await demo.gql(
            "query($id: ID!) { customer(id: $id) "
            "{ emails stats { orderCount lifetimeValue { amount } } } }",
            variables={"id": pid},
        )
        customer = body["data"]["customer"]
        assert customer["emails"] == [q.email]
        assert customer["stats"]["orderCount"] == 0
        assert float(customer["stats"]["lifetimeValue"]["amount"]) == 0


async def test_pos_duplicates_of_one_person_belong_together(demo: Demo) -> None:
    for q in demo.world.quirks.pos_duplicates:
        ids = await profiles(demo, *((Source("square"), sid) for sid in q.square_customer_ids))
        assert len(set(ids)) == 1
        assert len(q.square_customer_ids) >= 2


async def test_placeholder_typed_for_strangers_merges_nobody(demo: Demo) -> None:
    placeholders = demo.world.quirks.placeholders
    for email, customers in placeholders.square_customer_ids_by_email.items():
        ids = await profiles(demo, *((Source("square"), c) for c in customers))
        assert len(set(ids)) == len(customers), email
        body = await demo.gql(
            "query($q: String!) { customerLookup(query: $q) { id } }", variables={"q": email}
        )
        assert body["data"]["customerLookup"] == []
    for customers in placeholders.square_customer_ids_by_phone.values():
        ids = await profiles(demo, *((Source("square"), c) for c in customers))
        assert len(set(ids)) == len(customers)


async def test_guest_checkout_order_belongs_to_the_person(demo: Demo) -> None:
    for q in demo.world.quirks.guest_checkout:
        [pid] = set(
            await profiles(
                demo,
                (Source("klaviyo"), q.klaviyo_profile_id),
                (Source("square"), q.square_customer_id),
            )
        )
        body = await demo.gql(
            "query($id: ID!) { customer(id: $id) "
            "{ orders(first: 100) { edges { node { id source channel } } } } }",
            variables={"id": pid},
        )
        sources = {e["node"]["source"] for e in body["data"]["customer"]["orders"]["edges"]}
        assert "SHOPIFY" in sources, "the guest order is missing from the profile"
