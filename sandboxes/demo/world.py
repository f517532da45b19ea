"""The demo world: one retailer's locations, catalogue, stock, people and vendor records.

The world is vendor-neutral in one sense only: it is not any vendor's wire format. It does
hold one record type per vendor record (a Shopify customer, a Square customer, a Klaviyo
profile...) because the whole point is that the *same person* looks different in each
system, and the sandboxes must serve those differences. Each sandbox renders its own records
into its wire format; nothing here knows about JSON, gids or cents.

Types are mutable dataclasses with lists plus id indexes, because the sandboxes change the
world at runtime (a new order, a stock movement) through their control APIs. Use the
``add_*`` methods so the indexes stay in step, and the ``new_*`` id methods so new ids come
from the world's own deterministic sequence.

``Person`` is the ground truth that tests check identity resolution against. Fields named
``person_id`` on vendor records are that truth too: they are *not* part of any vendor's data
and a sandbox must never serve them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from connectors.records import Address, Channel, Consent, LocationKind, Source
from sandboxes.demo.ids import IdFactory, ShopifyKind

#: The demo's "now". Every timestamp in a generated world is at or before it, and nothing
#: reads the wall clock, so the same seed gives the same world on any day.
DEMO_NOW = datetime(2026, 11, 1, tzinfo=UTC)
#: Orders spread over this many days before ``DEMO_NOW``.
HISTORY_DAYS = 730

CENT = Decimal("0.01")


class PosSystem(enum.StrEnum):
    """Which point of sale a store runs. The warehouse runs none."""

    SHOPIFY_POS = "shopify_pos"
    SQUARE = "square"


class Persona(enum.StrEnum):
    """How a person shops; decides which systems know them."""

    ONLINE_ONLY = "online_only"
    IN_STORE_ONLY = "in_store_only"
    OMNICHANNEL = "omnichannel"
    SUBSCRIBER_ONLY = "subscriber_only"


class DeliveryMethod(enum.StrEnum):
    """Shopify's delivery method types that occur here: shipped, picked up, sold at the till."""

    SHIPPING = "shipping"
    PICK_UP = "pick_up"
    RETAIL = "retail"


# --- Locations, catalogue, stock -----------------------------------------------------------


@dataclass(slots=True)
class DemoLocation:
    code: str
    name: str
    kind: LocationKind
    address: Address
    latitude: float
    longitude: float
    timezone: str
    phone: str
    email: str
    pickup_enabled: bool
    fulfils_online: bool
    #: The POS the store runs; ``None`` for the warehouse.
    pos: PosSystem | None
    #: Every location exists in Shopify (Shopify holds the online stock of all of them).
    shopify_location_id: int
    #: Only stores that run Square exist as Square locations.
    square_location_id: str | None
    metro: str
    opened_at: datetime
    #: Shopify's ``DeliveryLocalPickupTime`` when pickup is enabled.
    pickup_time: str = "ONE_HOUR"

    @property
    def is_store(self) -> bool:
        return self.kind is LocationKind.STORE


@dataclass(slots=True)
class DemoVariant:
    """One sellable variant. The SKU is the join key between Shopify variants and Square item
    variations; the product's title and Shopify id are repeated here because every order
    line needs them."""

    sku: str
    product_code: str
    product_title: str
    shopify_product_id: int
    #: Shopify-style variant title, e.g. ``"Black / M"``.
    title: str
    options: tuple[str, ...]
    price: Decimal
    barcode: str
    shopify_variant_id: int
    shopify_inventory_item_id: int
    square_variation_id: str


@dataclass(slots=True)
class DemoProduct:
    code: str
    title: str
    handle: str
    product_type: str
    vendor: str
    option_names: tuple[str, ...]
    created_at: datetime
    shopify_product_id: int
    square_item_id: str
    variants: list[DemoVariant]


@dataclass(slots=True)
class StockLevel:
    """Quantities of one SKU at one location, with Shopify's quantity names.

    ``on_hand == available + committed + reserved``. ``safety_stock`` is the buffer a store
    keeps back from pickup promises; it is counted inside ``available`` (the design's
    sellable-for-pickup is ``available - safety_stock - holds``), so a row can be available
    but not sellable for pickup.
    """

    sku: str
    location_code: str
    available: int
    on_hand: int
    committed: int
    reserved: int
    incoming: int
    safety_stock: int
    updated_at: datetime

    def quantities(self) -> dict[str, int]:
        return {
            "available": self.available,
            "on_hand": self.on_hand,
            "committed": self.committed,
            "reserved": self.reserved,
            "incoming": self.incoming,
            "safety_stock": self.safety_stock,
        }

    @property
    def sellable(self) -> int:
        return max(0, self.available - self.safety_stock)


# --- People and vendor customer records ------------------------------------------------------


@dataclass(slots=True)
class Person:
    """The truth about one human. Tests compare identity resolution against this.

    ``email`` is the address the person really uses and some system knows; it is ``None``
    for a person no system has a real email for (a walk-in whose cashier typed a placeholder).
    ``phone`` likewise (E.164): a number at least one record or order carries, else ``None``.
    ``systems`` lists every vendor that knows the person, including Shopify for a guest who
    only ever checked out without an account. The vendor id fields list the person's own
    records; guest and till orders point back with their ``person_id``.
    """

    id: str
    first_name: str
    last_name: str
    email: str | None
    second_email: str | None
    phone: str | None
    address: Address
    metro: str
    persona: Persona
    home_location_code: str | None
    systems: set[Source] = field(default_factory=set)
    shopify_customer_id: int | None = None
    square_customer_ids: list[str] = field(default_factory=list)
    klaviyo_profile_ids: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True)
class ShopifyCustomer:
    """A Shopify customer. Shopify keeps emails lower-case and phones E.164, and refuses a
    phone or email another customer already has (so a family cannot share a phone here)."""

    id: int
    person_id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    #: ``method`` carries Shopify's opt-in level (``SINGLE_OPT_IN``...).
    email_consent: Consent
    #: ``method`` carries where SMS consent was collected (``SHOPIFY``, ``OTHER``).
    sms_consent: Consent
    addresses: list[Address]
    created_at: datetime
    updated_at: datetime
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    verified_email: bool = True
    state: str = "ENABLED"


@dataclass(slots=True)
class SquareCustomer:
    """A Square customer profile, as cashiers and the POS create them: emails in whatever case
    was typed, phones in local formats, duplicates, placeholders."""

    id: str
    person_id: str
    given_name: str | None
    family_name: str | None
    email_address: str | None
    phone_number: str | None
    address: Address | None
    #: Square's ``CustomerCreationSource`` (``DIRECTORY``, ``INSTANT_PROFILE``...).
    creation_source: str
    created_at: datetime
    updated_at: datetime
    version: int
    #: Where the cashier created the record. Not a Square field (Square customers belong to
    #: the merchant); it shows in the wire data only through the orders' ``location_id``.
    created_at_location_code: str | None = None
    note: str | None = None
    reference_id: str | None = None
    email_unsubscribed: bool = False


@dataclass(slots=True)
class KlaviyoProfile:
    """A Klaviyo profile. Klaviyo stores emails lower-case and a phone number at most once
    across profiles, so of two profiles of one person only one carries the phone."""

    id: str
    person_id: str
    email: str | None
    phone_number: str | None
    first_name: str | None
    last_name: str | None
    address: Address | None
    #: ``method`` is Klaviyo's consent method (``FORM``, ``SHOPIFY``, ``PREFERENCE_PAGE``...).
    email_consent: Consent
    sms_consent: Consent | None
    created: datetime
    updated: datetime
    properties: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class KlaviyoMetric:
    id: str
    name: str
    #: The integration that emits the metric: ``Klaviyo`` for email, ``Shopify`` for orders.
    integration: str


@dataclass(slots=True)
class KlaviyoCampaign:
    id: str
    name: str
    subject: str
    send_time: datetime


@dataclass(slots=True)
class KlaviyoEvent:
    """One event for the Events API. Campaign events of one campaign share one
    ``properties`` dict (50,000 people make ~150,000 events): treat it as read-only."""

    id: str
    profile_id: str
    metric_id: str
    time: datetime
    value: Decimal | None
    properties: dict[str, object]
    person_id: str


# --- Orders ------------------------------------------------------------------------------------


@dataclass(slots=True)
class ShopifyLineItem:
    id: int
    sku: str
    title: str
    variant_title: str
    quantity: int
    price: Decimal
    product_id: int
    variant_id: int


@dataclass(slots=True)
class ShopifyRefundLine:
    id: int
    line_item_id: int
    sku: str
    quantity: int
    subtotal: Decimal
    tax: Decimal


@dataclass(slots=True)
class ShopifyRefund:
    id: int
    created_at: datetime
    note: str | None
    lines: list[ShopifyRefundLine]
    shipping: Decimal
    #: Money returned to the buyer: line subtotals + their tax + refunded shipping.
    amount: Decimal
    restock: bool


@dataclass(slots=True)
class ShopifyOrder:
    """A Shopify order: online (``source_name == "web"``) or Shopify POS (``"pos"``).

    ``location_code`` is the fulfilling location for web orders (warehouse or a store, the
    store itself for pickup) and the retail location for POS orders. A guest checkout has an
    ``email`` but no ``customer_id``; an anonymous till sale has neither.
    """

    id: int
    name: str
    number: int
    person_id: str | None
    customer_id: int | None
    email: str | None
    phone: str | None
    source_name: str
    channel: Channel
    delivery_method: DeliveryMethod
    location_code: str
    location_id: int
    created_at: datetime
    updated_at: datetime
    currency: str
    lines: list[ShopifyLineItem]
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    tax_rate: Decimal
    shipping_address: Address | None
    refunds: list[ShopifyRefund]
    #: Codes the buyer entered at checkout (``Order.discountCodes``); the sandbox records
    #: them and takes nothing off the price.
    discount_codes: list[str] = field(default_factory=list)

    @property
    def retail_location_code(self) -> str | None:
        return self.location_code if self.source_name == "pos" else None

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def net(self) -> Decimal:
        return self.total - self.refunded

    @property
    def financial_status(self) -> str:
        refunded = self.refunded
        if refunded <= 0:
            return "paid"
        return "refunded" if refunded >= self.total else "partially_refunded"


@dataclass(slots=True)
class SquareLineItem:
    uid: str
    sku: str
    name: str
    variation_name: str
    quantity: int
    base_price: Decimal
    catalog_object_id: str


@dataclass(slots=True)
class SquareReturnLine:
    uid: str
    source_line_item_uid: str
    sku: str
    quantity: int
    subtotal: Decimal
    tax: Decimal


@dataclass(slots=True)
class SquareRefund:
    """A refund with its returned lines (Square splits these into ``Order.refunds`` and a
    return order's ``returns``; the sandbox renders both from this one record)."""

    id: str
    created_at: datetime
    reason: str
    lines: list[SquareReturnLine]
    amount: Decimal
    status: str = "COMPLETED"


@dataclass(slots=True)
class SquareOrder:
    id: str
    person_id: str | None
    customer_id: str | None
    location_code: str
    location_id: str
    source_name: str
    state: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime
    currency: str
    lines: list[SquareLineItem]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    tax_rate: Decimal
    payment_id: str
    tender_type: str
    version: int
    refunds: list[SquareRefund]

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def net(self) -> Decimal:
        return self.total - self.refunded


# --- Quirks -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpperCaseEmailQuirk:
    """The POS holds the email upper-case; Shopify and Klaviyo hold it lower-case.
    Correct: one person (the email matches after trim + lower-case)."""

    person_id: str
    pos_email: str
    email: str
    shopify_customer_id: int
    square_customer_id: str
    klaviyo_profile_id: str


@dataclass(frozen=True, slots=True)
class LocalPhoneQuirk:
    """The POS holds the phone as typed at the counter (``(212) 555-0134``, ``212.555.0134``,
    ``2125550134``); Shopify holds it E.164. Correct: same phone after normalisation (the
    email, identical in both, is what merges them)."""

    person_id: str
    style: str
    pos_phone: str
    e164: str
    shopify_customer_id: int
    square_customer_id: str


@dataclass(frozen=True, slots=True)
class GuestCheckoutQuirk:
    """A Shopify order with an email and no customer. The email is also on a Klaviyo profile
    and a Square customer. Correct: the order belongs to that person's profile."""

    person_id: str
    shopify_order_id: int
    email: str
    klaviyo_profile_id: str
    square_customer_id: str


@dataclass(frozen=True, slots=True)
class TwoEmailsQuirk:
    """One person, two emails.

    Shopify customer: email A, phone P. Square customer: email B, phone P (local format),
    same name. Klaviyo: two profiles, A (with P, synced from Shopify) and B (no phone:
    Klaviyo keeps a phone on one profile only). The strong link is ``linking_order_id``: a
    web order *of the Shopify customer* whose contact email is B (a gift order sent from the
    work address). Same phone and same name only support it; alone they must not merge.

    Correct: one person with emails {A, B} and all four records. A resolver that ignores
    order emails sees two profiles, {Shopify, Klaviyo A} and {Square, Klaviyo B}, which is
    the safe failure; merging on phone + name alone would also merge families.
    """

    person_id: str
    email_a: str
    email_b: str
    phone: str
    shopify_customer_id: int
    square_customer_id: str
    klaviyo_profile_id_a: str
    klaviyo_profile_id_b: str
    linking_order_id: int


@dataclass(frozen=True, slots=True)
class SharedPhoneQuirk:
    """A family: two people, same last name and address, different first names and emails,
    one phone. Both Square customers carry the phone (in different local formats); in
    Shopify only the first has it on the customer (Shopify refuses a duplicate phone), the
    second has it on an order (``shopify_order_id``). Correct: two people, never merged."""

    person_ids: tuple[str, str]
    phone: str
    emails: tuple[str, str]
    shopify_customer_ids: tuple[int, int]
    square_customer_ids: tuple[str, str]
    shopify_order_id: int


@dataclass(frozen=True, slots=True)
class SubscriberOnlyQuirk:
    """A Klaviyo profile and nothing else: subscribed, never bought. Correct: a profile with
    no orders and zero lifetime value."""

    person_id: str
    klaviyo_profile_id: str
    email: str


@dataclass(frozen=True, slots=True)
class PosDuplicatesQuirk:
    """One person, several Square customers created by cashiers at different Square stores,
    the same email in different case. Correct: one person; the records belong together
    (Square's own duplicate merge would agree), orders from all of them are that person's."""

    person_id: str
    square_customer_ids: tuple[str, ...]
    emails: tuple[str, ...]
    location_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlaceholderQuirk:
    """Contact details typed at the counter for strangers who would not give theirs:
    ``none@none.com``, the store's own email, ``0000000000``. Every record is a different
    person. Correct: a placeholder never merges anyone (resolvers must ignore it)."""

    emails: tuple[str, ...]
    phones: tuple[str, ...]
    #: Canonical (lower-case) placeholder email -> Square customers carrying it.
    square_customer_ids_by_email: dict[str, tuple[str, ...]]
    #: Placeholder phone as typed -> Square customers carrying it.
    square_customer_ids_by_phone: dict[str, tuple[str, ...]]
    person_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StockScenarios:
    """Stock rows planted for pickup and hold tests: (sku, location_code)."""

    last_unit: tuple[str, str]
    out_of_stock: tuple[str, str]
    held_back_by_safety_stock: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Quirks:
    """Where to find each planted quirk. Every tuple has at least one instance at any size;
    larger worlds plant more (roughly one per thousand people)."""

    upper_case_email: tuple[UpperCaseEmailQuirk, ...]
    local_phone: tuple[LocalPhoneQuirk, ...]
    guest_checkout: tuple[GuestCheckoutQuirk, ...]
    two_emails: tuple[TwoEmailsQuirk, ...]
    shared_phone: tuple[SharedPhoneQuirk, ...]
    subscriber_only: tuple[SubscriberOnlyQuirk, ...]
    pos_duplicates: tuple[PosDuplicatesQuirk, ...]
    placeholders: PlaceholderQuirk
    stock: StockScenarios

    def person_ids(self) -> set[str]:
        """Every person planted for a quirk."""
        ids: set[str] = set()
        for group in (
            self.upper_case_email,
            self.local_phone,
            self.guest_checkout,
            self.two_emails,
            self.subscriber_only,
            self.pos_duplicates,
        ):
            ids.update(q.person_id for q in group)
        for shared in self.shared_phone:
            ids.update(shared.person_ids)
        ids.update(self.placeholders.person_ids)
        return ids


# --- The world --------------------------------------------------------------------------------


@dataclass(eq=True)
class DemoWorld:
    """Everything the sandboxes serve. Compare two worlds with ``==`` (indexes and the id
    factory are derived state and left out of the comparison)."""

    seed: int
    now: datetime
    retailer_name: str
    retailer_domain: str
    currency: str
    locations: list[DemoLocation]
    products: list[DemoProduct]
    stock: list[StockLevel]
    people: list[Person]
    shopify_customers: list[ShopifyCustomer]
    square_customers: list[SquareCustomer]
    klaviyo_profiles: list[KlaviyoProfile]
    klaviyo_metrics: list[KlaviyoMetric]
    klaviyo_campaigns: list[KlaviyoCampaign]
    shopify_orders: list[ShopifyOrder]
    square_orders: list[SquareOrder]
    klaviyo_events: list[KlaviyoEvent]
    quirks: Quirks
    ids: IdFactory = field(repr=False, compare=False)

    locations_by_code: dict[str, DemoLocation] = field(init=False, repr=False, compare=False)
    locations_by_shopify_id: dict[int, DemoLocation] = field(init=False, repr=False, compare=False)
    locations_by_square_id: dict[str, DemoLocation] = field(init=False, repr=False, compare=False)
    products_by_code: dict[str, DemoProduct] = field(init=False, repr=False, compare=False)
    products_by_shopify_id: dict[int, DemoProduct] = field(init=False, repr=False, compare=False)
    products_by_square_id: dict[str, DemoProduct] = field(init=False, repr=False, compare=False)
    variants_by_sku: dict[str, DemoVariant] = field(init=False, repr=False, compare=False)
    variants_by_shopify_id: dict[int, DemoVariant] = field(init=False, repr=False, compare=False)
    variants_by_inventory_item_id: dict[int, DemoVariant] = field(
        init=False, repr=False, compare=False
    )
    variants_by_square_id: dict[str, DemoVariant] = field(init=False, repr=False, compare=False)
    stock_by_key: dict[tuple[str, str], StockLevel] = field(init=False, repr=False, compare=False)
    people_by_id: dict[str, Person] = field(init=False, repr=False, compare=False)
    shopify_customers_by_id: dict[int, ShopifyCustomer] = field(
        init=False, repr=False, compare=False
    )
    square_customers_by_id: dict[str, SquareCustomer] = field(init=False, repr=False, compare=False)
    klaviyo_profiles_by_id: dict[str, KlaviyoProfile] = field(init=False, repr=False, compare=False)
    klaviyo_metrics_by_id: dict[str, KlaviyoMetric] = field(init=False, repr=False, compare=False)
    klaviyo_metrics_by_name: dict[str, KlaviyoMetric] = field(init=False, repr=False, compare=False)
    shopify_orders_by_id: dict[int, ShopifyOrder] = field(init=False, repr=False, compare=False)
    square_orders_by_id: dict[str, SquareOrder] = field(init=False, repr=False, compare=False)
    shopify_orders_by_customer: dict[int, list[ShopifyOrder]] = field(
        init=False, repr=False, compare=False
    )
    #: Shopify orders by contact email, lower-cased (guest checkouts are found this way).
    shopify_orders_by_email: dict[str, list[ShopifyOrder]] = field(
        init=False, repr=False, compare=False
    )
    square_orders_by_customer: dict[str, list[SquareOrder]] = field(
        init=False, repr=False, compare=False
    )
    klaviyo_events_by_profile: dict[str, list[KlaviyoEvent]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        """Rebuild every index from the lists (after editing the lists directly)."""
        self.locations_by_code = {loc.code: loc for loc in self.locations}
        self.locations_by_shopify_id = {loc.shopify_location_id: loc for loc in self.locations}
        self.locations_by_square_id = {
            loc.square_location_id: loc for loc in self.locations if loc.square_location_id
        }
        self.products_by_code = {p.code: p for p in self.products}
        self.products_by_shopify_id = {p.shopify_product_id: p for p in self.products}
        self.products_by_square_id = {p.square_item_id: p for p in self.products}
        variants = [v for p in self.products for v in p.variants]
        self.variants_by_sku = {v.sku: v for v in variants}
        self.variants_by_shopify_id = {v.shopify_variant_id: v for v in variants}
        self.variants_by_inventory_item_id = {v.shopify_inventory_item_id: v for v in variants}
        self.variants_by_square_id = {v.square_variation_id: v for v in variants}
        self.stock_by_key = {(s.sku, s.location_code): s for s in self.stock}
        self.people_by_id = {p.id: p for p in self.people}
        self.shopify_customers_by_id = {c.id: c for c in self.shopify_customers}
        self.square_customers_by_id = {c.id: c for c in self.square_customers}
        self.klaviyo_profiles_by_id = {p.id: p for p in self.klaviyo_profiles}
        self.klaviyo_metrics_by_id = {m.id: m for m in self.klaviyo_metrics}
        self.klaviyo_metrics_by_name = {m.name: m for m in self.klaviyo_metrics}
        self.shopify_orders_by_id = {}
        self.shopify_orders_by_customer = {}
        self.shopify_orders_by_email = {}
        for order in self.shopify_orders:
            self._index_shopify_order(order)
        self.square_orders_by_id = {}
        self.square_orders_by_customer = {}
        for sq_order in self.square_orders:
            self._index_square_order(sq_order)
        self.klaviyo_events_by_profile = {}
        for event in self.klaviyo_events:
            self.klaviyo_events_by_profile.setdefault(event.profile_id, []).append(event)

    def _index_shopify_order(self, order: ShopifyOrder) -> None:
        self.shopify_orders_by_id[order.id] = order
        if order.customer_id is not None:
            self.shopify_orders_by_customer.setdefault(order.customer_id, []).append(order)
        if order.email:
            self.shopify_orders_by_email.setdefault(order.email.lower(), []).append(order)

    def _index_square_order(self, order: SquareOrder) -> None:
        self.square_orders_by_id[order.id] = order
        if order.customer_id is not None:
            self.square_orders_by_customer.setdefault(order.customer_id, []).append(order)

    # --- Reading ---------------------------------------------------------------------------

    @property
    def variants(self) -> list[DemoVariant]:
        return [v for p in self.products for v in p.variants]

    @property
    def stores(self) -> list[DemoLocation]:
        return [loc for loc in self.locations if loc.is_store]

    def stores_running(self, pos: PosSystem) -> list[DemoLocation]:
        return [loc for loc in self.locations if loc.pos is pos]

    def stock_level(self, sku: str, location_code: str) -> StockLevel | None:
        return self.stock_by_key.get((sku, location_code))

    def iter_orders_of(self, person: Person) -> Iterator[ShopifyOrder | SquareOrder]:
        """Every order that truly belongs to ``person``, in any system (guest orders too)."""
        for order in self.shopify_orders:
            if order.person_id == person.id:
                yield order
        for sq_order in self.square_orders:
            if sq_order.person_id == person.id:
                yield sq_order

    # --- Changing ---------------------------------------------------------------------------

    def add_person(self, person: Person) -> None:
        self.people.append(person)
        self.people_by_id[person.id] = person

    def add_shopify_customer(self, customer: ShopifyCustomer) -> None:
        self.shopify_customers.append(customer)
        self.shopify_customers_by_id[customer.id] = customer

    def add_square_customer(self, customer: SquareCustomer) -> None:
        self.square_customers.append(customer)
        self.square_customers_by_id[customer.id] = customer

    def add_klaviyo_profile(self, profile: KlaviyoProfile) -> None:
        self.klaviyo_profiles.append(profile)
        self.klaviyo_profiles_by_id[profile.id] = profile

    def add_klaviyo_event(self, event: KlaviyoEvent) -> None:
        self.klaviyo_events.append(event)
        self.klaviyo_events_by_profile.setdefault(event.profile_id, []).append(event)

    def add_shopify_order(self, order: ShopifyOrder) -> None:
        self.shopify_orders.append(order)
        self._index_shopify_order(order)

    def add_square_order(self, order: SquareOrder) -> None:
        self.square_orders.append(order)
        self._index_square_order(order)

    def adjust_stock(
        self, sku: str, location_code: str, delta: int, at: datetime, *, field_name: str = ""
    ) -> StockLevel:
        """Move ``available`` by ``delta`` (a sale is negative, a receipt positive) keeping
        ``on_hand`` coherent. ``field_name="committed"`` moves units from available into
        committed instead (an order placed but not yet fulfilled). Raises ``KeyError`` for an
        unknown row and ``ValueError`` if a quantity would go negative."""
        level = self.stock_by_key[(sku, location_code)]
        if field_name == "committed":
            if level.available - delta < 0 or level.committed + delta < 0:
                raise ValueError(f"cannot commit {delta} of {sku} at {location_code}")
            level.available -= delta
            level.committed += delta
        else:
            if level.available + delta < 0:
                raise ValueError(f"only {level.available} of {sku} at {location_code}")
            level.available += delta
            level.on_hand += delta
        level.updated_at = at
        return level

    # --- New ids (deterministic, never colliding with generated ones) ---------------------------

    def new_order_id(self, vendor: Source, at: datetime | None = None) -> int | str:
        """A fresh order id in the vendor's style (Shopify: numeric, time-ordered; pair it with
        ``new_shopify_order_ref`` when the ``#name`` is needed too)."""
        if vendor is Source("shopify"):
            return self.ids.shopify(ShopifyKind.ORDER, at or self.now)
        if vendor is Source("square"):
            return self.ids.square_order()
        raise ValueError(f"{vendor} has no orders")

    def new_customer_id(self, vendor: Source, at: datetime | None = None) -> int | str:
        """A fresh customer (Shopify, Square) or profile (Klaviyo) id in the vendor's style."""
        if vendor is Source("shopify"):
            return self.ids.shopify(ShopifyKind.CUSTOMER, at or self.now)
        if vendor is Source("square"):
            return self.ids.square_customer()
        return self.ids.klaviyo_ulid(at or self.now)

    def new_shopify_id(self, kind: ShopifyKind, at: datetime) -> int:
        return self.ids.shopify(kind, at)

    def new_shopify_order_ref(self, at: datetime) -> tuple[int, str]:
        """``(id, name)`` for a new Shopify order, e.g. ``(5600123456789, "#4821")``."""
        return self.ids.shopify(ShopifyKind.ORDER, at), f"#{self.ids.next_order_number()}"

    def new_square_order_id(self) -> str:
        return self.ids.square_order()

    def new_square_customer_id(self) -> str:
        return self.ids.square_customer()

    def new_klaviyo_profile_id(self, at: datetime) -> str:
        return self.ids.klaviyo_ulid(at)

    def new_klaviyo_event_id(self) -> str:
        return self.ids.klaviyo_event()
