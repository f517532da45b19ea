"""Every planted quirk is present, findable through ``world.quirks`` and exactly as described."""

from __future__ import annotations

import re

import phonenumbers
import pytest

from connectors.records import Source
from sandboxes.demo import PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE, DemoWorld

from .truth import normalise_email


def e164(raw: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(raw, "US"), phonenumbers.PhoneNumberFormat.E164
    )


def test_upper_case_email_at_the_pos(world: DemoWorld) -> None:
    assert world.quirks.upper_case_email
    for q in world.quirks.upper_case_email:
        square = world.square_customers_by_id[q.square_customer_id]
        shopify = world.shopify_customers_by_id[q.shopify_customer_id]
        profile = world.klaviyo_profiles_by_id[q.klaviyo_profile_id]
        assert square.email_address == q.pos_email
        assert q.pos_email == q.pos_email.upper()
        assert q.pos_email != q.email
        assert q.pos_email.lower() == shopify.email == profile.email == q.email
        assert {square.person_id, shopify.person_id, profile.person_id} == {q.person_id}


STYLE_PATTERNS = {
    "parenthesized": r"\(\d{3}\) \d{3}-\d{4}",
    "dotted": r"\d{3}\.\d{3}\.\d{4}",
    "digits": r"\d{10}",
}


def test_local_phone_formats_at_the_pos(world: DemoWorld) -> None:
    quirks = world.quirks.local_phone
    assert {q.style for q in quirks} >= set(STYLE_PATTERNS)
    for q in quirks:
        square = world.square_customers_by_id[q.square_customer_id]
        shopify = world.shopify_customers_by_id[q.shopify_customer_id]
        assert square.phone_number == q.pos_phone
        assert re.fullmatch(STYLE_PATTERNS[q.style], q.pos_phone)
        assert shopify.phone == q.e164 != q.pos_phone
        assert e164(q.pos_phone) == q.e164
        assert square.email_address == shopify.email
        assert square.person_id == shopify.person_id == q.person_id


def test_guest_checkout(world: DemoWorld) -> None:
    assert world.quirks.guest_checkout
    for q in world.quirks.guest_checkout:
        order = world.shopify_orders_by_id[q.shopify_order_id]
        assert order.customer_id is None
        assert order.email == q.email
        assert order.source_name == "web"
        assert order.person_id == q.person_id
        assert world.klaviyo_profiles_by_id[q.klaviyo_profile_id].email == q.email
        square = world.square_customers_by_id[q.square_customer_id]
        assert normalise_email(square.email_address or "") == q.email
        assert all(c.email != q.email for c in world.shopify_customers)
        person = world.people_by_id[q.person_id]
        assert person.shopify_customer_id is None
        assert Source("shopify") in person.systems


def test_two_emails_linked_by_an_order(world: DemoWorld) -> None:
    assert world.quirks.two_emails
    for q in world.quirks.two_emails:
        person = world.people_by_id[q.person_id]
        assert (person.email, person.second_email) == (q.email_a, q.email_b)
        assert q.email_a != q.email_b
        shopify = world.shopify_customers_by_id[q.shopify_customer_id]
        square = world.square_customers_by_id[q.square_customer_id]
        profile_a = world.klaviyo_profiles_by_id[q.klaviyo_profile_id_a]
        profile_b = world.klaviyo_profiles_by_id[q.klaviyo_profile_id_b]
        assert (shopify.email, shopify.phone) == (q.email_a, q.phone)
        assert normalise_email(square.email_address or "") == q.email_b
        assert e164(square.phone_number or "") == q.phone
        assert (square.given_name, square.family_name) == (shopify.first_name, shopify.last_name)
        assert (profile_a.email, profile_a.phone_number) == (q.email_a, q.phone)
        assert (profile_b.email, profile_b.phone_number) == (q.email_b, None)
        link = world.shopify_orders_by_id[q.linking_order_id]
        assert (link.customer_id, link.email) == (shopify.id, q.email_b)
        owners = {shopify.person_id, square.person_id, profile_a.person_id, profile_b.person_id}
        assert owners == {q.person_id}


def test_family_sharing_one_phone_stays_two_people(world: DemoWorld) -> None:
    assert world.quirks.shared_phone
    for q in world.quirks.shared_phone:
        first, second = (world.people_by_id[i] for i in q.person_ids)
        assert first.id != second.id
        assert first.last_name == second.last_name
        assert first.first_name != second.first_name
        assert first.address == second.address
        assert first.phone == second.phone == q.phone
        assert q.emails[0] != q.emails[1]
        squares = [world.square_customers_by_id[i] for i in q.square_customer_ids]
        assert [e164(s.phone_number or "") for s in squares] == [q.phone, q.phone]
        assert squares[0].phone_number != squares[1].phone_number
        shopify = [world.shopify_customers_by_id[i] for i in q.shopify_customer_ids]
        # Shopify refuses a duplicate phone: only the first customer carries it...
        assert [c.phone for c in shopify] == [q.phone, None]
        # ...the second's order does.
        order = world.shopify_orders_by_id[q.shopify_order_id]
        assert (order.customer_id, order.phone) == (shopify[1].id, q.phone)
        assert [s.person_id for s in squares] == list(q.person_ids)


def test_email_only_subscriber_never_bought(world: DemoWorld) -> None:
    assert world.quirks.subscriber_only
    placed = world.klaviyo_metrics_by_name["Placed Order"].id
    for q in world.quirks.subscriber_only:
        person = world.people_by_id[q.person_id]
        assert person.systems == {Source("klaviyo")}
        assert list(world.iter_orders_of(person)) == []
        profile = world.klaviyo_profiles_by_id[q.klaviyo_profile_id]
        assert profile.email == q.email
        assert profile.email_consent.state == "subscribed"
        events = world.klaviyo_events_by_profile.get(profile.id, [])
        assert all(e.metric_id != placed for e in events)
        assert all(o.email != q.email for o in world.shopify_orders)


def test_pos_duplicates_belong_to_one_person(world: DemoWorld) -> None:
    assert world.quirks.pos_duplicates
    for q in world.quirks.pos_duplicates:
        records = [world.square_customers_by_id[i] for i in q.square_customer_ids]
        assert len(records) in (2, 3)
        assert {r.person_id for r in records} == {q.person_id}
        assert len({r.email_address for r in records}) == len(records)
        assert len({normalise_email(r.email_address or "") for r in records}) == 1
        assert len(set(q.location_codes)) >= 2
        for record, code in zip(records, q.location_codes, strict=True):
            assert record.created_at_location_code == code
            orders = world.square_orders_by_customer[record.id]
            assert orders
            assert {o.location_code for o in orders} == {code}


def test_placeholders_are_on_many_different_people(world: DemoWorld) -> None:
    q = world.quirks.placeholders
    none_ids = q.square_customer_ids_by_email[PLACEHOLDER_EMAIL]
    assert len(none_ids) >= 12
    store_emails = {loc.email for loc in world.locations}
    assert set(q.emails) - {PLACEHOLDER_EMAIL} <= store_emails
    assert set(q.emails) & store_emails
    phone_ids = q.square_customer_ids_by_phone[PLACEHOLDER_PHONE]
    assert len(phone_ids) >= 3
    for ids in (none_ids, phone_ids, *q.square_customer_ids_by_email.values()):
        records = [world.square_customers_by_id[i] for i in ids]
        assert len({r.person_id for r in records}) == len(records)
    all_records = {i for ids in q.square_customer_ids_by_email.values() for i in ids}
    all_records |= set(phone_ids)
    names = [
        (r.given_name, r.family_name)
        for r in (world.square_customers_by_id[i] for i in all_records)
    ]
    assert len(set(names)) == len(names)
    for i in all_records:
        record = world.square_customers_by_id[i]
        person = world.people_by_id[record.person_id]
        assert person.id in q.person_ids
        assert person.email is None
        assert person.square_customer_ids == [record.id]
    # No real person's record carries a placeholder by accident.
    for record in world.square_customers:
        if record.email_address and normalise_email(record.email_address) in q.emails:
            assert record.id in all_records


def test_quirk_people_are_distinct_and_exist(world: DemoWorld) -> None:
    people = world.quirks.person_ids()
    assert people <= set(world.people_by_id)
    assert len(people) >= 25


@pytest.mark.parametrize(
    ("field", "minimum"),
    [
        ("upper_case_email", 5),
        ("local_phone", 5),
        ("guest_checkout", 5),
        ("two_emails", 2),
        ("shared_phone", 2),
        ("subscriber_only", 5),
        ("pos_duplicates", 5),
    ],
)
def test_large_worlds_plant_more_instances(
    large_world: DemoWorld, field: str, minimum: int
) -> None:
    instances = getattr(large_world.quirks, field)
    assert len(instances) >= minimum
    placeholders = large_world.quirks.placeholders
    assert len(placeholders.square_customer_ids_by_email[PLACEHOLDER_EMAIL]) >= 25
