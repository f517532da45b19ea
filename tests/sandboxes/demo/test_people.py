"""People and their vendor records: formats, vendor constraints, and a truth that the design's
identity rules can reach."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import phonenumbers
import pytest

from connectors.records import ConsentState, Source
from sandboxes.demo import DemoWorld, Persona
from sandboxes.demo.ids import ulid_time

from .truth import is_placeholder, normalise_email, resolve

E164 = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def e164(raw: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(raw, "US"), phonenumbers.PhoneNumberFormat.E164
    )


def test_people_have_unique_ids_emails_and_valid_phones(world: DemoWorld) -> None:
    assert len(world.people) == 200
    assert len(world.people_by_id) == 200
    emails = [p.email for p in world.people if p.email is not None]
    assert all(e == e.strip().lower() for e in emails)
    assert len(set(emails)) == len(emails)
    phones = Counter(p.phone for p in world.people if p.phone is not None)
    for phone, count in phones.items():
        assert E164.fullmatch(phone)
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
        # Only a family shares a number.
        assert count == 1 or phone in {q.phone for q in world.quirks.shared_phone}


def test_every_persona_and_system_mix_occurs(world: DemoWorld) -> None:
    assert set(Counter(p.persona for p in world.people)) == set(Persona)
    systems = Counter(frozenset(p.systems) for p in world.people)
    assert systems[frozenset({Source("klaviyo")})] > 0
    assert systems[frozenset({Source("shopify"), Source("square"), Source("klaviyo")})] > 0
    assert systems[frozenset({Source("square")})] > 0


def test_persona_mix_at_scale(large_world: DemoWorld) -> None:
    """About a quarter omnichannel; most buyers buy in one channel."""
    mix = Counter(p.persona for p in large_world.people)
    n = len(large_world.people)
    assert 0.20 < mix[Persona.OMNICHANNEL] / n < 0.30
    assert mix[Persona.ONLINE_ONLY] + mix[Persona.IN_STORE_ONLY] > n / 2
    assert 0.07 < mix[Persona.SUBSCRIBER_ONLY] / n < 0.14


def test_person_links_match_the_records(world: DemoWorld) -> None:
    for person in world.people:
        if person.shopify_customer_id is not None:
            assert world.shopify_customers_by_id[person.shopify_customer_id].person_id == person.id
        for sq in person.square_customer_ids:
            assert world.square_customers_by_id[sq].person_id == person.id
        for kl in person.klaviyo_profile_ids:
            assert world.klaviyo_profiles_by_id[kl].person_id == person.id
        assert (Source("square") in person.systems) == bool(person.square_customer_ids)
        assert (Source("klaviyo") in person.systems) == bool(person.klaviyo_profile_ids)
        has_shopify_orders = any(o.person_id == person.id for o in world.shopify_orders)
        assert (Source("shopify") in person.systems) == (
            person.shopify_customer_id is not None or has_shopify_orders
        )
    linked = {c.id for c in world.shopify_customers}
    assert linked == {p.shopify_customer_id for p in world.people} - {None}


def test_person_contacts_are_known_to_some_system(world: DemoWorld) -> None:
    """``Person.email``/``phone`` are the truth a resolver can find, not secrets nobody has."""
    emails: set[str] = set()
    phones: set[str] = set()
    for c in world.shopify_customers:
        emails.add(c.email or "")
        phones.add(c.phone or "")
    for s in world.square_customers:
        emails.add(normalise_email(s.email_address or ""))
        if s.phone_number and s.phone_number != "0000000000":
            phones.add(e164(s.phone_number))
    for p in world.klaviyo_profiles:
        emails.add(p.email or "")
        phones.add(p.phone_number or "")
    for o in world.shopify_orders:
        emails.add(o.email or "")
        phones.add(o.phone or "")
    for person in world.people:
        assert person.email is None or person.email in emails, person.id
        assert person.phone is None or person.phone in phones, person.id


def test_shopify_customers_follow_shopify_rules(world: DemoWorld) -> None:
    """Lower-case unique emails, E.164 unique phones, numeric ids growing with creation time."""
    emails = [c.email for c in world.shopify_customers if c.email]
    phones = [c.phone for c in world.shopify_customers if c.phone]
    assert all(e == e.lower() for e in emails)
    assert len(set(emails)) == len(emails)
    assert all(E164.fullmatch(p) for p in phones)
    assert len(set(phones)) == len(phones)
    by_time = sorted(world.shopify_customers, key=lambda c: c.created_at)
    assert [c.id for c in by_time] == sorted(c.id for c in by_time)
    assert all(len(str(c.id)) == 13 for c in world.shopify_customers)
    for c in world.shopify_customers:
        assert c.created_at <= c.updated_at
        assert c.email_consent.can_receive == (c.email_consent.state is ConsentState.SUBSCRIBED)


def test_square_customers_look_typed_at_a_counter(world: DemoWorld) -> None:
    ids = [s.id for s in world.square_customers]
    assert all(re.fullmatch(r"[A-Z0-9]{26}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    emails = [s.email_address for s in world.square_customers if s.email_address]
    assert any(e != e.lower() for e in emails)
    phones = [s.phone_number for s in world.square_customers if s.phone_number]
    assert any(not p.startswith("+") for p in phones)
    for s in world.square_customers:
        assert s.version >= 1
        assert s.created_at <= s.updated_at
        assert s.creation_source in {"DIRECTORY", "INSTANT_PROFILE", "LOYALTY"}
        assert world.locations_by_code[s.created_at_location_code or ""].pos == "square"
        if s.phone_number and s.phone_number != "0000000000":
            assert phonenumbers.is_valid_number(phonenumbers.parse(s.phone_number, "US"))


def test_klaviyo_profiles_follow_klaviyo_rules(world: DemoWorld) -> None:
    """ULID ids whose time part is the creation time; unique emails; a phone on one profile."""
    for p in world.klaviyo_profiles:
        assert len(p.id) == 26
        assert set(p.id) <= set(CROCKFORD)
        assert p.id[:10] == ulid_time(p.created)
        assert p.email == (p.email or "").lower()
        assert p.created <= p.updated
        consent = p.email_consent
        if consent.state is not ConsentState.NEVER_SUBSCRIBED:
            assert consent.updated_at is not None
            assert consent.method
    emails = [p.email for p in world.klaviyo_profiles]
    assert len(set(emails)) == len(emails)
    phones = [p.phone_number for p in world.klaviyo_profiles if p.phone_number]
    assert len(set(phones)) == len(phones)
    states = Counter(p.email_consent.state for p in world.klaviyo_profiles)
    assert states[ConsentState.SUBSCRIBED] > 0
    assert states[ConsentState.NEVER_SUBSCRIBED] > 0


def test_ulid_time_prefix_decodes_to_the_millisecond() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    prefix = ulid_time(at)
    value = 0
    for ch in prefix:
        value = value * 32 + CROCKFORD.index(ch)
    assert value == int(at.timestamp() * 1000)
    assert ulid_time(datetime(2022, 9, 21, 20, 0, tzinfo=UTC)) < prefix


@pytest.mark.parametrize("size", ["world", "large_world"])
def test_truth_is_reachable_by_the_identity_rules(
    size: str, request: pytest.FixtureRequest
) -> None:
    """Clustering by normalised email (never by placeholder, never by phone), plus the link an
    order makes between its customer and its contact email, recovers exactly the people."""
    w: DemoWorld = request.getfixturevalue(size)
    uf, owner = resolve(w)
    clusters: dict[object, set[str]] = {}
    for node, person_id in owner.items():
        clusters.setdefault(uf.find(node), set()).add(person_id)
    assert all(len(people) == 1 for people in clusters.values())
    roots_per_person: dict[str, set[object]] = {}
    for node, person_id in owner.items():
        roots_per_person.setdefault(person_id, set()).add(uf.find(node))
    assert all(len(roots) == 1 for roots in roots_per_person.values())
    assert len(roots_per_person) == sum(1 for p in w.people if p.systems)


def test_merging_on_phone_or_placeholders_would_be_wrong(world: DemoWorld) -> None:
    """The quirks are not decoration: the naive rules merge different people."""
    by_phone: dict[str, set[str]] = {}
    for s in world.square_customers:
        if s.phone_number:
            digits = re.sub(r"\D", "", s.phone_number)[-10:]
            by_phone.setdefault(digits, set()).add(s.person_id)
    assert any(len(people) > 1 for people in by_phone.values())
    by_email: dict[str, set[str]] = {}
    for s in world.square_customers:
        if s.email_address and is_placeholder(world, s.email_address):
            by_email.setdefault(normalise_email(s.email_address), set()).add(s.person_id)
    assert max(len(people) for people in by_email.values()) >= 12
