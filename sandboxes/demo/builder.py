"""The building blocks of a demo world: people, their vendor records and their orders.

``Builder`` holds the one seeded ``random.Random`` and the lists being filled. Both the
general population (``generator.py``) and the planted quirks (``quirks.py``) use these same
primitives, so a quirk differs from an ordinary person only in the detail it is about.

Speed matters (50,000 people in a few seconds), so the primitives avoid per-record heavy work:
no phone parsing, no faker, ids from cheap ``random`` draws, Decimal only for money.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import TypeVar

from connectors.records import Address, Channel, Consent, ConsentState, Source
from sandboxes.demo import catalog, names
from sandboxes.demo.ids import IdFactory, ShopifyKind
from sandboxes.demo.world import (
    CENT,
    DEMO_NOW,
    HISTORY_DAYS,
    DeliveryMethod,
    DemoLocation,
    DemoVariant,
    KlaviyoProfile,
    Person,
    Persona,
    PosSystem,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    ShopifyRefundLine,
    SquareCustomer,
    SquareLineItem,
    SquareOrder,
    SquareRefund,
    SquareReturnLine,
)

T = TypeVar("T")

HISTORY_START = DEMO_NOW - timedelta(days=HISTORY_DAYS)
#: Till sales drawn past now are moved here; the sale still closes (minutes later) before now.
LAST_SALE = DEMO_NOW - timedelta(minutes=5)
#: Consent is frozen, so the most common value is shared rather than built per record.
NEVER = Consent(ConsentState.NEVER_SUBSCRIBED, False, None, None)
#: A web order is updated once more when it ships (or is picked up) about a day later.
_FULFILMENT_LAG = timedelta(hours=30)
SQUARE_SOURCE_NAME = "Square Point of Sale"
FREE_SHIPPING_FROM = Decimal("75.00")
SHIPPING_FEE = Decimal("8.00")
#: Money zero with cents, so a rendered amount reads "0.00" like every other amount.
ZERO = Decimal("0.00")
DEFAULT_TAX = Decimal("0.07")
_TAX = {region: Decimal(rate) for region, rate in names.TAX_RATES.items()}
_UTC_OFFSET_HOURS = {"America/New_York": -5, "America/Chicago": -6}
_REFUND_NOTES = ("Wrong size", "Changed mind", "Damaged in transit", "Not as pictured", None)
_SQUARE_REASONS = ("Returned goods", "Wrong size", "Damaged", "Customer changed mind")

#: Local styles a cashier (or a card reader) leaves a US phone in. ``{a}`` area code,
#: ``{b}`` exchange, ``{c}`` line. Weighted towards what people actually type.
PHONE_STYLES: dict[str, str] = {
    "parenthesized": "({a}) {b}-{c}",
    "dashed": "{a}-{b}-{c}",
    "dotted": "{a}.{b}.{c}",
    "digits": "{a}{b}{c}",
    "spaced_plus": "+1 {a}-{b}-{c}",
    "e164": "+1{a}{b}{c}",
}
_PHONE_STYLE_NAMES = tuple(PHONE_STYLES)
_PHONE_STYLE_CUM = (35, 55, 65, 85, 90, 100)


def format_phone(e164: str, style: str) -> str:
    """Render a +1 E.164 number the way a person typed it."""
    digits = e164[2:]
    return PHONE_STYLES[style].format(a=digits[:3], b=digits[3:6], c=digits[6:])


def title_case_email(email: str) -> str:
    """``jane.doe@gmail.com`` -> ``Jane.Doe@Gmail.com``: how autocapitalising keyboards and
    careful typists leave emails at the counter."""
    local, _, domain = email.partition("@")
    return ".".join(p[:1].upper() + p[1:] for p in local.split(".")) + "@" + domain.capitalize()


def tax_rate(region: str | None) -> Decimal:
    return _TAX.get(region or "", DEFAULT_TAX)


@dataclass(slots=True)
class RefundPlan:
    """A refund decided before it is written in a vendor's shape."""

    at: datetime
    #: (line index, quantity, subtotal, tax)
    lines: list[tuple[int, int, Decimal, Decimal]]
    shipping: Decimal
    amount: Decimal


class Builder:
    """Creates people, vendor records and orders into the lists of a world under construction."""

    def __init__(self, seed: int, ids: IdFactory) -> None:
        self.rng = random.Random(seed)
        #: ``rng.random`` bound once: the hot paths below draw with it directly (an
        #: ``int(random() * n)`` is several times cheaper than ``randrange``/``choice``).
        self.random = self.rng.random
        self.ids = ids
        self.locations: list[DemoLocation] = []
        self.locations_by_code: dict[str, DemoLocation] = {}
        self.variants: list[DemoVariant] = []
        self.people: list[Person] = []
        self.shopify_customers: list[ShopifyCustomer] = []
        self.square_customers: list[SquareCustomer] = []
        self.klaviyo_profiles: list[KlaviyoProfile] = []
        self.shopify_orders: list[ShopifyOrder] = []
        self.square_orders: list[SquareOrder] = []
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()
        self._ascii: dict[str, str] = {}
        self._email_domains = tuple(d for d, _ in names.EMAIL_DOMAINS)
        self._email_cum = _cumulative([w for _, w in names.EMAIL_DOMAINS])
        self._online_cum: list[float] = []
        self._store_cum: list[float] = []

    # --- catalogue hooks (set by generate once locations and products exist) -----------------

    def set_catalogue(
        self,
        locations: list[DemoLocation],
        variants: list[DemoVariant],
        product_type: dict[str, str],
    ) -> None:
        self.locations = locations
        self.locations_by_code = {loc.code: loc for loc in locations}
        self.variants = variants
        online = [catalog.CHANNEL_WEIGHTS[product_type[v.product_code]][0] for v in variants]
        store = [catalog.CHANNEL_WEIGHTS[product_type[v.product_code]][1] for v in variants]
        self._online_cum = _cumulative(online)
        self._store_cum = _cumulative(store)
        self.fulfilment = [loc for loc in locations if loc.fulfils_online]
        self._fulfilment_cum = _cumulative([3 if loc.pos is None else 1 for loc in self.fulfilment])
        self._same_pos: dict[PosSystem | None, list[DemoLocation]] = {}
        for loc in locations:
            self._same_pos.setdefault(loc.pos, []).append(loc)

    # --- time -------------------------------------------------------------------------------

    def moment(self, start: datetime, end: datetime) -> datetime:
        """A whole-second instant in ``[start, end)``."""
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=int(self.random() * max(1, span)))

    def store_moment(self, start: datetime, end: datetime, store: DemoLocation) -> datetime:
        """An instant on a day in ``[start, end)`` within the store's opening hours
        (10:00-20:00 local, standard time): till sales do not happen at 3 a.m."""
        first_day = (start - HISTORY_START).days
        days = max(1, (end - start).days)
        opens = (10 - _UTC_OFFSET_HOURS.get(store.timezone, -5)) * 3600
        at = HISTORY_START + timedelta(
            days=first_day + int(self.random() * days),
            seconds=opens + int(self.random() * 36000),
        )
        return at if at < LAST_SALE else LAST_SALE

    def activity_window(self) -> tuple[datetime, datetime]:
        """When a person buys: from a first visit (later ones likelier, the business grows)
        to now, or to a lapse date for one buyer in five."""
        start = HISTORY_START + timedelta(
            seconds=int(HISTORY_DAYS * 86400 * 0.97 * self.rng.random() ** 0.8)
        )
        end = DEMO_NOW
        if self.rng.random() < 0.2:
            end = min(DEMO_NOW, start + timedelta(days=self.rng.randrange(30, 300)))
        return start, end

    def order_count(self) -> int:
        # Geometric-like: half buy once, a long tail buys many times.
        r = self.random()
        return 1 if r < 0.67 else 2 if r < 0.87 else 3 if r < 0.94 else 4 + int(self.random() * 5)

    # --- contact details -------------------------------------------------------------------------

    def _local(self, name: str) -> str:
        out = self._ascii.get(name)
        if out is None:
            out = "".join(ch for ch in name.lower() if ch.isalnum())
            self._ascii[name] = out
        return out

    def email_for(self, first: str, last: str, domain: str | None = None) -> str:
        """A unique, lower-case email in one of the shapes people pick."""
        rng = self.rng
        f, last_ = self._local(first), self._local(last)
        r = rng.random()
        if r < 0.35:
            local = f"{f}.{last_}"
        elif r < 0.55:
            local = f"{f}{last_}"
        elif r < 0.70:
            local = f"{f[0]}{last_}"
        elif r < 0.85:
            local = f"{f}.{last_}{rng.randrange(1, 100)}"
        else:
            local = f"{f}{last_[0]}{rng.randrange(60, 100)}"
        if domain is None:
            domain = self._email_domains[
                bisect(self._email_cum, self.random() * self._email_cum[-1])
            ]
        email = f"{local}@{domain}"
        while email in self.used_emails:
            email = f"{local}{rng.randrange(100, 10000)}@{domain}"
        self.used_emails.add(email)
        return email

    def phone_for(self, town: names.Town) -> str:
        """A unique, valid-looking US number (E.164) with one of the town's area codes.
        Exchanges avoid N11 and 555 so the numbers pass libphonenumber's validation."""
        rand = self.random
        area = pick(town.area_codes, rand)
        while True:
            exchange = 201 + int(rand() * 799)
            if exchange % 100 == 11 or exchange == 555:
                continue
            phone = f"+1{area}{exchange}{int(rand() * 10000):04d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def address_for(self, town: names.Town) -> Address:
        rand = self.random
        line2 = None
        if rand() < 0.35:
            line2 = pick(names.APARTMENT_FORMATS, rand).format(
                n=1 + int(rand() * 29), l=pick("ABCDEF", rand)
            )
        return Address(
            line1=f"{1 + int(rand() * 479)} {pick(names.STREETS, rand)}",
            line2=line2,
            city=town.city,
            region=town.region,
            postal_code=pick(town.postal_codes, rand),
            country_code="US",
        )

    def pos_email(self, email: str) -> str:
        """An email as a cashier left it: mostly as given, sometimes upper or title case."""
        r = self.rng.random()
        if r < 0.15:
            return email.upper()
        if r < 0.35:
            return title_case_email(email)
        return email

    def pos_phone(self, e164: str) -> str:
        style = _PHONE_STYLE_NAMES[bisect(_PHONE_STYLE_CUM, self.random() * _PHONE_STYLE_CUM[-1])]
        return format_phone(e164, style)

    # --- people -----------------------------------------------------------------------------------

    def person(
        self,
        persona: Persona,
        town: names.Town,
        metro: str,
        home: DemoLocation | None,
        *,
        first: str | None = None,
        last: str | None = None,
        with_email: bool = True,
        with_phone: bool | None = None,
        address: Address | None = None,
    ) -> Person:
        rng = self.rng
        first = first or pick(names.FIRST_NAMES, self.random)
        last = last or pick(names.LAST_NAMES, self.random)
        if with_phone is None:
            with_phone = rng.random() < 0.9
        person = Person(
            id=f"P{len(self.people) + 1:06d}",
            first_name=first,
            last_name=last,
            email=self.email_for(first, last) if with_email else None,
            second_email=None,
            phone=self.phone_for(town) if with_phone else None,
            address=address or self.address_for(town),
            metro=metro,
            persona=persona,
            home_location_code=home.code if home else None,
        )
        self.people.append(person)
        return person

    def email_consent(self, at: datetime, subscribed_share: float = 0.55) -> Consent:
        r = self.rng.random()
        if r < subscribed_share:
            return Consent(ConsentState.SUBSCRIBED, True, at, "SINGLE_OPT_IN")
        if r < subscribed_share + 0.12:
            later = self.moment(at, DEMO_NOW) if at < DEMO_NOW else at
            return Consent(ConsentState.UNSUBSCRIBED, False, later, None)
        return NEVER

    def sms_consent(self, phone: str | None, at: datetime) -> Consent:
        if phone is not None and self.rng.random() < 0.18:
            return Consent(ConsentState.SUBSCRIBED, True, at, "SHOPIFY")
        return NEVER

    # --- vendor customer records ------------------------------------------------------------------

    def shopify_customer(
        self,
        person: Person,
        created_at: datetime,
        *,
        email: str | None,
        phone: str | None,
        via_pos: bool = False,
        email_consent: Consent | None = None,
    ) -> ShopifyCustomer:
        address = person.address
        customer = ShopifyCustomer(
            id=self.ids.shopify(ShopifyKind.CUSTOMER, created_at),
            person_id=person.id,
            first_name=person.first_name,
            last_name=person.last_name,
            email=email,
            phone=phone,
            email_consent=email_consent or self.email_consent(created_at),
            sms_consent=self.sms_consent(phone, created_at),
            addresses=[address],
            created_at=created_at,
            updated_at=created_at,
            tags=["pos"] if via_pos else [],
            verified_email=email is not None and not via_pos,
        )
        self.shopify_customers.append(customer)
        person.shopify_customer_id = customer.id
        person.systems.add(Source("shopify"))
        return customer

    def square_customer(
        self,
        person: Person,
        created_at: datetime,
        store: DemoLocation,
        *,
        email: str | None,
        phone: str | None,
        creation_source: str = "DIRECTORY",
        given_name: str | None = None,
        family_name: str | None = None,
        with_address: bool = False,
    ) -> SquareCustomer:
        rng = self.rng
        edits = rng.choice((0, 0, 0, 1, 1, 2, 3))
        updated = (
            self.moment(created_at, DEMO_NOW) if edits and created_at < DEMO_NOW else created_at
        )
        customer = SquareCustomer(
            id=self.ids.square_customer(),
            person_id=person.id,
            given_name=given_name if given_name is not None else person.first_name,
            family_name=family_name if family_name is not None else person.last_name,
            email_address=email,
            phone_number=phone,
            address=person.address if with_address else None,
            creation_source=creation_source,
            created_at=created_at,
            updated_at=updated,
            version=1 + edits,
            created_at_location_code=store.code,
            email_unsubscribed=email is not None and rng.random() < 0.1,
        )
        self.square_customers.append(customer)
        person.square_customer_ids.append(customer.id)
        person.systems.add(Source("square"))
        return customer

    def klaviyo_profile(
        self,
        person: Person,
        created: datetime,
        *,
        email: str,
        phone: str | None,
        method: str,
        email_consent: Consent | None = None,
        signup_source: str = "",
        drift: bool = True,
    ) -> KlaviyoProfile:
        """A Klaviyo profile. Consent follows ``email_consent`` (the Shopify customer's, when the
        profile was synced) with a little ``drift``: some people unsubscribed from a Klaviyo
        email since, which Shopify never heard about."""
        rng = self.rng
        base = email_consent or self.email_consent(created, subscribed_share=0.7)
        if drift and base.state is ConsentState.SUBSCRIBED and rng.random() < 0.06:
            consent = Consent(
                ConsentState.UNSUBSCRIBED, False, self.moment(created, DEMO_NOW), "PREFERENCE_PAGE"
            )
        elif base.state is ConsentState.SUBSCRIBED:
            consent = Consent(ConsentState.SUBSCRIBED, True, base.updated_at or created, method)
        elif base.state is ConsentState.UNSUBSCRIBED:
            consent = Consent(ConsentState.UNSUBSCRIBED, False, base.updated_at, "PREFERENCE_PAGE")
        else:
            consent = Consent(base.state, False, base.updated_at, None)
        sms = None
        if phone is not None:
            sms = (
                Consent(ConsentState.SUBSCRIBED, True, created, "TEXT")
                if rng.random() < 0.2
                else NEVER
            )
        updated = max(created, consent.updated_at or created)
        profile = KlaviyoProfile(
            id=self.ids.klaviyo_ulid(created),
            person_id=person.id,
            email=email,
            phone_number=phone,
            first_name=person.first_name,
            last_name=person.last_name,
            address=person.address if rng.random() < 0.6 else None,
            email_consent=consent,
            sms_consent=sms,
            created=created,
            updated=updated,
            properties={"signup_source": signup_source or method.lower()},
        )
        self.klaviyo_profiles.append(profile)
        person.klaviyo_profile_ids.append(profile.id)
        person.systems.add(Source("klaviyo"))
        return profile

    # --- orders -----------------------------------------------------------------------------------

    def _basket(self, cum: list[float]) -> list[tuple[DemoVariant, int]]:
        """1-4 distinct variants with small quantities, drawn by channel popularity."""
        rand = self.random
        r = rand()
        n = 1 if r < 0.55 else 2 if r < 0.83 else 3 if r < 0.95 else 4
        picked: dict[str, tuple[DemoVariant, int]] = {}
        variants = self.variants
        top = cum[-1]
        for _ in range(n):
            variant = variants[bisect(cum, rand() * top)]
            q = rand()
            qty = 1 if q < 0.86 else 2 if q < 0.97 else 3
            if variant.sku in picked:
                qty += picked[variant.sku][1]
            picked[variant.sku] = (variant, qty)
        return list(picked.values())

    def _refunds(
        self,
        basket: list[tuple[DemoVariant, int]],
        rate: Decimal,
        shipping: Decimal,
        tax: Decimal,
        total: Decimal,
        at: datetime,
    ) -> list[RefundPlan]:
        """Refunds for an order the caller decided gets some: a full refund, or one or two
        partial ones (a returned item plus its tax). The amounts never exceed the total."""
        rng = self.rng
        first_at = at + timedelta(days=rng.randrange(1, 30), seconds=rng.randrange(86400))
        if first_at >= DEMO_NOW:
            return []
        only_one_unit = len(basket) == 1 and basket[0][1] == 1
        if only_one_unit or rng.random() < 0.4:
            lines = []
            tax_left = tax
            last = len(basket) - 1
            for i, (variant, qty) in enumerate(basket):
                sub = variant.price * qty
                line_tax = tax_left if i == last else (sub * rate).quantize(CENT)
                tax_left -= line_tax
                lines.append((i, qty, sub, line_tax))
            return [RefundPlan(first_at, lines, shipping, total)]
        plans: list[RefundPlan] = []
        refunded = ZERO
        indexes = list(range(len(basket)))
        rng.shuffle(indexes)
        # A second partial refund only when a third line stays unrefunded, so partial refunds
        # never add up to the whole order (rounding could then exceed the total by a cent).
        rounds = 2 if len(basket) >= 3 and rng.random() < 0.25 else 1
        when = first_at
        for i in indexes[:rounds]:
            variant, qty = basket[i]
            take = rng.randint(1, qty)
            if len(basket) == 1 and take == qty:
                take = qty - 1
            sub = variant.price * take
            line_tax = (sub * rate).quantize(CENT)
            amount = min(sub + line_tax, total - refunded)
            refunded += amount
            plans.append(RefundPlan(when, [(i, take, sub, amount - sub)], ZERO, amount))
            when = when + timedelta(days=rng.randrange(1, 10), seconds=rng.randrange(3600))
            if when >= DEMO_NOW:
                break
        return plans

    def web_order(
        self,
        person: Person | None,
        at: datetime,
        *,
        customer: ShopifyCustomer | None,
        email: str | None,
        phone: str | None = None,
        pickup_chance: float = 0.15,
    ) -> ShopifyOrder:
        """An online order: shipped from the warehouse or a fulfilling store, or picked up at
        the buyer's nearest store."""
        rng = self.rng
        home = (
            self.locations_by_code.get(person.home_location_code)
            if person and person.home_location_code
            else None
        )
        if home is not None and home.pickup_enabled and rng.random() < pickup_chance:
            location, method, ship_to = home, DeliveryMethod.PICK_UP, None
            rate = tax_rate(home.address.region)
        else:
            cum = self._fulfilment_cum
            location = self.fulfilment[bisect(cum, rng.random() * cum[-1])]
            method = DeliveryMethod.SHIPPING
            ship_to = person.address if person else None
            rate = tax_rate(ship_to.region if ship_to else None)
        order = self._shopify_order(
            person,
            at,
            customer,
            email,
            phone,
            "web",
            Channel.ONLINE,
            method,
            location,
            rate,
            ship_to,
            self._online_cum,
            refund_chance=0.08,
        )
        if person is not None:
            person.systems.add(Source("shopify"))
        return order

    def pos_order(
        self,
        person: Person | None,
        at: datetime,
        store: DemoLocation,
        customer: ShopifyCustomer | None,
    ) -> ShopifyOrder:
        """A Shopify POS sale at the till: ``source_name == "pos"``, the store as retail
        location, the customer's email when the cashier attached a customer."""
        return self._shopify_order(
            person,
            at,
            customer,
            customer.email if customer else None,
            None,
            "pos",
            Channel.IN_STORE,
            DeliveryMethod.RETAIL,
            store,
            tax_rate(store.address.region),
            None,
            self._store_cum,
            refund_chance=0.05,
        )

    def _shopify_order(
        self,
        person: Person | None,
        at: datetime,
        customer: ShopifyCustomer | None,
        email: str | None,
        phone: str | None,
        source_name: str,
        channel: Channel,
        method: DeliveryMethod,
        location: DemoLocation,
        rate: Decimal,
        ship_to: Address | None,
        cum: list[float],
        refund_chance: float,
    ) -> ShopifyOrder:
        rng = self.rng
        ids = self.ids
        basket = self._basket(cum)
        lines = []
        subtotal = ZERO
        for variant, qty in basket:
            lines.append(
                ShopifyLineItem(
                    id=ids.shopify_next(ShopifyKind.LINE_ITEM),
                    sku=variant.sku,
                    title=variant.product_title,
                    variant_title=variant.title,
                    quantity=qty,
                    price=variant.price,
                    product_id=variant.shopify_product_id,
                    variant_id=variant.shopify_variant_id,
                )
            )
            subtotal += variant.price * qty
        shipping = (
            SHIPPING_FEE
            if method is DeliveryMethod.SHIPPING and subtotal < FREE_SHIPPING_FROM
            else ZERO
        )
        tax = (subtotal * rate).quantize(CENT)
        total = subtotal + shipping + tax
        refunds = []
        plans = (
            self._refunds(basket, rate, shipping, tax, total, at)
            if self.random() < refund_chance
            else ()
        )
        for plan in plans:
            refunds.append(
                ShopifyRefund(
                    id=ids.shopify(ShopifyKind.REFUND, plan.at),
                    created_at=plan.at,
                    note=rng.choice(_REFUND_NOTES),
                    lines=[
                        ShopifyRefundLine(
                            id=ids.shopify_next(ShopifyKind.REFUND_LINE_ITEM),
                            line_item_id=lines[i].id,
                            sku=lines[i].sku,
                            quantity=qty,
                            subtotal=sub,
                            tax=line_tax,
                        )
                        for i, qty, sub, line_tax in plan.lines
                    ],
                    shipping=plan.shipping,
                    amount=plan.amount,
                    restock=True,
                )
            )
        updated = refunds[-1].created_at if refunds else min(DEMO_NOW, at + _FULFILMENT_LAG)
        order = ShopifyOrder(
            id=ids.shopify(ShopifyKind.ORDER, at),
            name="",
            number=0,
            person_id=person.id if person else None,
            customer_id=customer.id if customer else None,
            email=email,
            phone=phone,
            source_name=source_name,
            channel=channel,
            delivery_method=method,
            location_code=location.code,
            location_id=location.shopify_location_id,
            created_at=at,
            updated_at=updated,
            currency=catalog.CURRENCY,
            lines=lines,
            subtotal=subtotal,
            shipping=shipping,
            tax=tax,
            total=total,
            tax_rate=rate,
            shipping_address=ship_to,
            refunds=refunds,
        )
        self.shopify_orders.append(order)
        if customer is not None and updated > customer.updated_at:
            customer.updated_at = updated
        return order

    def square_order(
        self,
        person: Person | None,
        at: datetime,
        store: DemoLocation,
        customer: SquareCustomer | None,
    ) -> SquareOrder:
        """A Square POS sale: ``COMPLETED``, source "Square Point of Sale", the store's Square
        location, the customer when the cashier attached one."""
        rng = self.rng
        ids = self.ids
        assert store.square_location_id is not None, f"{store.code} does not run Square"
        basket = self._basket(self._store_cum)
        lines = []
        subtotal = ZERO
        for variant, qty in basket:
            lines.append(
                SquareLineItem(
                    uid=ids.square_uid(),
                    sku=variant.sku,
                    name=variant.product_title,
                    variation_name=variant.title,
                    quantity=qty,
                    base_price=variant.price,
                    catalog_object_id=variant.square_variation_id,
                )
            )
            subtotal += variant.price * qty
        rate = tax_rate(store.address.region)
        tax = (subtotal * rate).quantize(CENT)
        total = subtotal + tax
        payment_id = ids.square_payment()
        refunds = [
            SquareRefund(
                id=ids.square_refund(payment_id),
                created_at=plan.at,
                reason=rng.choice(_SQUARE_REASONS),
                lines=[
                    SquareReturnLine(
                        uid=ids.square_uid(),
                        source_line_item_uid=lines[i].uid,
                        sku=lines[i].sku,
                        quantity=qty,
                        subtotal=sub,
                        tax=line_tax,
                    )
                    for i, qty, sub, line_tax in plan.lines
                ],
                amount=plan.amount,
            )
            for plan in (
                self._refunds(basket, rate, ZERO, tax, total, at) if rng.random() < 0.05 else ()
            )
        ]
        closed = at + timedelta(seconds=20 + int(rng.random() * 220))
        updated = refunds[-1].created_at if refunds else closed
        order = SquareOrder(
            id=ids.square_order(),
            person_id=person.id if person else None,
            customer_id=customer.id if customer else None,
            location_code=store.code,
            location_id=store.square_location_id,
            source_name=SQUARE_SOURCE_NAME,
            state="COMPLETED",
            created_at=at,
            updated_at=updated,
            closed_at=closed,
            currency=catalog.CURRENCY,
            lines=lines,
            subtotal=subtotal,
            tax=tax,
            total=total,
            tax_rate=rate,
            payment_id=payment_id,
            tender_type="CARD" if rng.random() < 0.85 else "CASH",
            version=4 + len(refunds),
            refunds=refunds,
        )
        self.square_orders.append(order)
        if customer is not None and updated > customer.updated_at:
            customer.updated_at = updated
        return order

    def plan_visits(
        self, home: DemoLocation, days: list[datetime]
    ) -> list[tuple[DemoLocation, datetime]]:
        """Store visits on the given days, inside opening hours, mostly at ``home`` and now and
        then at another store running the same POS (one Square or Shopify customer serves the
        whole merchant, so the same record follows the person there)."""
        rand = self.random
        same_pos = self._same_pos[home.pos]
        visits = []
        for day in days:
            store = home if rand() < 0.9 else pick(same_pos, rand)
            visits.append((store, self.store_moment(day, day, store)))
        visits.sort(key=itemgetter(1))
        return visits

    def store_orders(
        self,
        person: Person | None,
        visits: list[tuple[DemoLocation, datetime]],
        *,
        shopify_customer: ShopifyCustomer | None = None,
        square_customer: SquareCustomer | None = None,
    ) -> None:
        """Till sales for the visits, in the POS each store runs."""
        for store, when in visits:
            if store.pos is PosSystem.SQUARE:
                self.square_order(person, when, store, square_customer)
            else:
                self.pos_order(person, when, store, shopify_customer)

    def times(self, n: int, start: datetime, end: datetime) -> list[datetime]:
        return sorted(self.moment(start, end) for _ in range(n))


def pick(seq: Sequence[T], rand: Callable[[], float]) -> T:
    """``random.choice`` without its overhead, for the hot paths."""
    return seq[int(rand() * len(seq))]


def _cumulative(weights: list[int]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
