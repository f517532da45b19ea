"""Planting the identity quirks every sandbox must reproduce, and recording where they are.

Each ``plant_*`` method creates the people of one quirk instance with the same primitives as
the general population, differing only in the detail under test, and records the ids in a
``*Quirk`` dataclass. The instances are scattered through the population (the generator
shuffles when they are planted), so a test cannot pass by looking at the first few records.

The truth each quirk demands of identity resolution is in the docstrings of the ``*Quirk``
types in ``world.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.records import Consent, ConsentState
from sandboxes.demo import catalog, names
from sandboxes.demo.builder import Builder, format_phone, title_case_email
from sandboxes.demo.world import (
    DEMO_NOW,
    DemoLocation,
    GuestCheckoutQuirk,
    LocalPhoneQuirk,
    Person,
    Persona,
    PlaceholderQuirk,
    PosDuplicatesQuirk,
    SharedPhoneQuirk,
    SubscriberOnlyQuirk,
    TwoEmailsQuirk,
    UpperCaseEmailQuirk,
)

PLACEHOLDER_EMAIL = "none@none.com"
PLACEHOLDER_PHONE = "0000000000"
#: How cashiers type the placeholder email (the canonical form is ``none@none.com``).
_PLACEHOLDER_EMAIL_SPELLINGS = ("none@none.com", "none@none.com", "NONE@NONE.COM", "None@none.com")
#: Local phone styles every world contains, cycled through the local-phone instances.
LOCAL_PHONE_STYLES = ("parenthesized", "dotted", "digits")


class QuirkPlanter:
    """Plants quirk instances into a ``Builder`` and keeps their ids."""

    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.square_stores = [loc for loc in builder.locations if loc.square_location_id]
        nyc = next(m for m in names.METROS if m.code == "NYC")
        self._towns = {town.city: town for town in nyc.towns}
        self.upper_case_email: list[UpperCaseEmailQuirk] = []
        self.local_phone: list[LocalPhoneQuirk] = []
        self.guest_checkout: list[GuestCheckoutQuirk] = []
        self.two_emails: list[TwoEmailsQuirk] = []
        self.shared_phone: list[SharedPhoneQuirk] = []
        self.subscriber_only: list[SubscriberOnlyQuirk] = []
        self.pos_duplicates: list[PosDuplicatesQuirk] = []
        self._placeholder_people: list[str] = []
        self._by_email: dict[str, list[str]] = {}
        self._by_phone: dict[str, list[str]] = {}
        self._stranger_names: set[tuple[str, str]] = set()

    # --- helpers --------------------------------------------------------------------------------

    def _square_person(
        self,
        persona: Persona,
        *,
        with_phone: bool = True,
        with_email: bool = True,
        first: str | None = None,
        last: str | None = None,
    ) -> tuple[Person, DemoLocation]:
        """A New Yorker whose nearest store runs Square (both Square stores are in NYC)."""
        store = self.b.rng.choice(self.square_stores)
        town = self._towns["Brooklyn" if store.code == "BKN" else "New York"]
        person = self.b.person(
            persona,
            town,
            "NYC",
            store,
            first=first,
            last=last,
            with_email=with_email,
            with_phone=with_phone,
        )
        return person, store

    def _window(self) -> tuple[datetime, datetime]:
        """Quirk people stay active until now (never lapsed), so demos always show them."""
        start, _ = self.b.activity_window()
        return start, DEMO_NOW

    def _created_before(self, at: datetime) -> datetime:
        return at - timedelta(minutes=self.b.rng.randrange(2, 40))

    # --- 1. upper-case email at the POS -----------------------------------------------------------

    def plant_upper_case_email(self) -> None:
        b = self.b
        person, store = self._square_person(Persona.OMNICHANNEL)
        assert person.email is not None
        assert person.phone is not None
        start, end = self._window()
        web = b.times(2, start, end)
        visits = b.plan_visits(store, b.times(2, start, end))
        shopify = b.shopify_customer(
            person, self._created_before(web[0]), email=person.email, phone=person.phone
        )
        for at in web:
            b.web_order(person, at, customer=shopify, email=person.email, phone=person.phone)
        pos_email = person.email.upper()
        square = b.square_customer(
            person,
            self._created_before(visits[0][1]),
            visits[0][0],
            email=pos_email,
            phone=b.pos_phone(person.phone),
        )
        b.store_orders(person, visits, square_customer=square)
        profile = b.klaviyo_profile(
            person,
            shopify.created_at,
            email=person.email,
            phone=person.phone,
            method="SHOPIFY",
            email_consent=shopify.email_consent,
        )
        self.upper_case_email.append(
            UpperCaseEmailQuirk(
                person.id, pos_email, person.email, shopify.id, square.id, profile.id
            )
        )

    # --- 2. local phone formats at the POS --------------------------------------------------------

    def plant_local_phone(self, style: str) -> None:
        b = self.b
        person, store = self._square_person(Persona.OMNICHANNEL)
        assert person.email is not None
        assert person.phone is not None
        start, end = self._window()
        web = b.times(1, start, end)
        visits = b.plan_visits(store, b.times(2, start, end))
        shopify = b.shopify_customer(
            person,
            self._created_before(min(web[0], visits[0][1])),
            email=person.email,
            phone=person.phone,
        )
        for at in web:
            b.web_order(person, at, customer=shopify, email=person.email, phone=person.phone)
        pos_phone = format_phone(person.phone, style)
        square = b.square_customer(
            person,
            self._created_before(visits[0][1]),
            visits[0][0],
            email=person.email,
            phone=pos_phone,
        )
        b.store_orders(person, visits, square_customer=square)
        self.local_phone.append(
            LocalPhoneQuirk(person.id, style, pos_phone, person.phone, shopify.id, square.id)
        )

    # --- 3. guest checkout ------------------------------------------------------------------------

    def plant_guest_checkout(self) -> None:
        b = self.b
        person, store = self._square_person(Persona.OMNICHANNEL)
        assert person.email is not None
        start, end = self._window()
        visits = b.plan_visits(store, b.times(2, start, end))
        square = b.square_customer(
            person,
            self._created_before(visits[0][1]),
            visits[0][0],
            email=b.pos_email(person.email),
            phone=b.pos_phone(person.phone) if person.phone else None,
        )
        b.store_orders(person, visits, square_customer=square)
        profile = b.klaviyo_profile(
            person,
            square.created_at + timedelta(minutes=3),
            email=person.email,
            phone=person.phone,
            method="SQUARE",
            email_consent=Consent(ConsentState.SUBSCRIBED, True, square.created_at, "SQUARE"),
        )
        order = b.web_order(
            person, b.moment(start, end), customer=None, email=person.email, phone=person.phone
        )
        self.guest_checkout.append(
            GuestCheckoutQuirk(person.id, order.id, person.email, profile.id, square.id)
        )

    # --- 4. one person, two emails ----------------------------------------------------------------

    def plant_two_emails(self) -> None:
        b = self.b
        person, store = self._square_person(Persona.OMNICHANNEL)
        assert person.email is not None
        assert person.phone is not None
        email_a = person.email
        email_b = b.email_for(person.first_name, person.last_name, b.rng.choice(names.WORK_DOMAINS))
        person.second_email = email_b
        start, end = self._window()
        web = b.times(2, start, end)
        visits = b.plan_visits(store, b.times(2, start, end))
        shopify = b.shopify_customer(
            person, self._created_before(web[0]), email=email_a, phone=person.phone
        )
        for at in web:
            b.web_order(person, at, customer=shopify, email=email_a, phone=person.phone)
        # The strong link: the same Shopify customer checks out a gift with the work email.
        link = b.web_order(
            person, b.moment(web[0], end), customer=shopify, email=email_b, phone=person.phone
        )
        square = b.square_customer(
            person,
            self._created_before(visits[0][1]),
            visits[0][0],
            email=email_b,
            phone=b.pos_phone(person.phone),
        )
        b.store_orders(person, visits, square_customer=square)
        profile_a = b.klaviyo_profile(
            person,
            shopify.created_at,
            email=email_a,
            phone=person.phone,
            method="SHOPIFY",
            email_consent=shopify.email_consent,
        )
        profile_b = b.klaviyo_profile(
            person, square.created_at, email=email_b, phone=None, method="SQUARE"
        )
        self.two_emails.append(
            TwoEmailsQuirk(
                person.id,
                email_a,
                email_b,
                person.phone,
                shopify.id,
                square.id,
                profile_a.id,
                profile_b.id,
                link.id,
            )
        )

    # --- 5. a family sharing one phone ------------------------------------------------------------

    def plant_shared_phone(self) -> None:
        b = self.b
        first, store = self._square_person(Persona.OMNICHANNEL)
        assert first.phone is not None
        assert first.email is not None
        given = first.first_name
        while given == first.first_name:
            given = b.rng.choice(names.FIRST_NAMES)
        second = b.person(
            Persona.OMNICHANNEL,
            self._towns["Brooklyn"],
            "NYC",
            store,
            first=given,
            last=first.last_name,
            with_phone=False,
            address=first.address,
        )
        assert second.email is not None
        second.phone = first.phone
        phone = first.phone
        start, end = self._window()
        shopify_ids: list[int] = []
        square_ids: list[str] = []
        order_id = 0
        for member, style in ((first, "parenthesized"), (second, "dashed")):
            assert member.email is not None
            web = b.times(2, start, end)
            # Shopify refuses a second customer with the same phone: only the first has it.
            shopify = b.shopify_customer(
                member,
                self._created_before(web[0]),
                email=member.email,
                phone=phone if member is first else None,
            )
            for at in web:
                order = b.web_order(member, at, customer=shopify, email=member.email, phone=phone)
                if member is second:
                    order_id = order.id
            visits = b.plan_visits(store, b.times(2, start, end))
            square = b.square_customer(
                member,
                self._created_before(visits[0][1]),
                visits[0][0],
                email=member.email,
                phone=format_phone(phone, style),
            )
            b.store_orders(member, visits, square_customer=square)
            # Klaviyo keeps a phone on one profile only.
            b.klaviyo_profile(
                member,
                shopify.created_at,
                email=member.email,
                phone=phone if member is first else None,
                method="SHOPIFY",
                email_consent=shopify.email_consent,
            )
            shopify_ids.append(shopify.id)
            square_ids.append(square.id)
        self.shared_phone.append(
            SharedPhoneQuirk(
                (first.id, second.id),
                phone,
                (first.email, second.email),
                (shopify_ids[0], shopify_ids[1]),
                (square_ids[0], square_ids[1]),
                order_id,
            )
        )

    # --- 6. an email-only subscriber --------------------------------------------------------------

    def plant_subscriber_only(self) -> None:
        b = self.b
        town = b.rng.choice(names.ONLINE_TOWNS)
        person = b.person(Persona.SUBSCRIBER_ONLY, town, "REMOTE", None, with_phone=False)
        assert person.email is not None
        start, _ = self._window()
        profile = b.klaviyo_profile(
            person,
            start,
            email=person.email,
            phone=None,
            method="FORM",
            email_consent=Consent(ConsentState.SUBSCRIBED, True, start, "FORM"),
            signup_source="footer_form",
            drift=False,
        )
        self.subscriber_only.append(SubscriberOnlyQuirk(person.id, profile.id, person.email))

    # --- 7. POS duplicates of one person ----------------------------------------------------------

    def plant_pos_duplicates(self, copies: int = 3) -> None:
        b = self.b
        person, _ = self._square_person(Persona.IN_STORE_ONLY)
        assert person.email is not None
        assert person.phone is not None
        spellings = (person.email, title_case_email(person.email), person.email.upper())
        start, end = self._window()
        ids: list[str] = []
        emails: list[str] = []
        codes: list[str] = []
        for i in range(copies):
            # Alternate stores so the copies come from cashiers at different Square stores.
            store = self.square_stores[i % len(self.square_stores)]
            visits = b.plan_visits(store, b.times(2, start, end))
            visits = [(store, at) for _, at in visits]
            square = b.square_customer(
                person,
                self._created_before(visits[0][1]),
                store,
                email=spellings[i % len(spellings)],
                phone=b.pos_phone(person.phone) if i != 1 else None,
            )
            b.store_orders(person, visits, square_customer=square)
            ids.append(square.id)
            emails.append(square.email_address or "")
            codes.append(store.code)
        self.pos_duplicates.append(
            PosDuplicatesQuirk(person.id, tuple(ids), tuple(emails), tuple(codes))
        )

    # --- 8. placeholder contacts for strangers ----------------------------------------------------

    def plant_stranger(self, kind: str, index: int) -> None:
        """One walk-in whose cashier typed a placeholder. ``kind``: ``none_email`` (the first
        three also get the placeholder phone), ``store_email`` or ``phone_only``."""
        b = self.b
        rng = b.rng
        while True:
            name = (rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES))
            if name not in self._stranger_names:
                self._stranger_names.add(name)
                break
        real_phone = kind != "phone_only" and index >= 3 and rng.random() < 0.5
        person, store = self._square_person(
            Persona.IN_STORE_ONLY,
            with_phone=real_phone,
            first=name[0],
            last=name[1],
            with_email=False,
        )
        if kind == "store_email":
            email: str | None = f"{catalog.EMAIL_LOCAL[store.code]}@{catalog.RETAILER_DOMAIN}"
        elif kind == "none_email":
            email = _PLACEHOLDER_EMAIL_SPELLINGS[index % len(_PLACEHOLDER_EMAIL_SPELLINGS)]
        else:
            email = None
        placeholder_phone = kind == "phone_only" or (kind == "none_email" and index < 3)
        if placeholder_phone:
            phone: str | None = PLACEHOLDER_PHONE
        elif person.phone is not None:
            phone = b.pos_phone(person.phone)
        else:
            phone = None
        start, end = self._window()
        visits = b.plan_visits(store, b.times(1 + rng.randrange(2), start, end))
        visits = [(store, at) for _, at in visits]
        square = b.square_customer(
            person, self._created_before(visits[0][1]), store, email=email, phone=phone
        )
        b.store_orders(person, visits, square_customer=square)
        self._placeholder_people.append(person.id)
        if email is not None:
            self._by_email.setdefault(email.lower(), []).append(square.id)
        if placeholder_phone:
            self._by_phone.setdefault(PLACEHOLDER_PHONE, []).append(square.id)

    def placeholders(self) -> PlaceholderQuirk:
        return PlaceholderQuirk(
            emails=tuple(sorted(self._by_email)),
            phones=tuple(sorted(self._by_phone)),
            square_customer_ids_by_email={k: tuple(v) for k, v in sorted(self._by_email.items())},
            square_customer_ids_by_phone={k: tuple(v) for k, v in sorted(self._by_phone.items())},
            person_ids=tuple(self._placeholder_people),
        )
