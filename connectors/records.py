"""Domain records: the vendor-neutral shapes every connector maps its wire format into.

These are plain frozen dataclasses so that every layer (connectors, resolvers, schema,
gateway) can share them without importing each other. A record always says which
``source`` it came from and keeps the vendor's own id, because identity resolution and
unmerge need to know exactly which upstream record a fact came from.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator


class Source(str):
    """An upstream system: the stable name used in ids, settings, logs and the schema.

    An open value type, not an enum: each vendor package declares its own
    (``SOURCE = Source("shopify")``), so adding a vendor edits no shared module. Instances are
    interned, so ``Source("shopify") is Source("shopify")`` (and comparisons by identity keep
    working as they did for enum members); a ``Source`` equals and hashes as its plain string,
    so it mixes with the names kept in settings and documents. ``value`` is the plain string,
    as an enum member's was.
    """

    __slots__ = ()
    _interned: ClassVar[dict[str, Source]] = {}

    def __new__(cls, name: str) -> Source:
        known = cls._interned.get(name)
        if known is not None:
            return known
        if not isinstance(name, str) or not _SOURCE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid source name (lower-case letters, digits, _)")
        return cls._interned.setdefault(str(name), super().__new__(cls, name))

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Source({str.__repr__(self)})"

    def __str__(self) -> str:
        return str.__str__(self)

    def __reduce__(self) -> tuple[type[Source], tuple[str]]:
        return (Source, (self.value,))

    def __copy__(self) -> Source:
        return self

    def __deepcopy__(self, memo: object) -> Source:
        return self

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: Any) -> Any:
        """Validated from its name (as ``Source(name)``); a JSON dump is the plain name."""
        return handler(Annotated[str, AfterValidator(cls)])


#: What a source's name may be: it is part of ids, keys and environment variable names.
_SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Channel(enum.StrEnum):
    """Where a sale happened, whatever system recorded it."""

    ONLINE = "online"
    IN_STORE = "in_store"


class LocationKind(enum.StrEnum):
    STORE = "store"
    WAREHOUSE = "warehouse"


class ConsentState(enum.StrEnum):
    """Marketing consent, normalised across vendors (Shopify marketingState, Klaviyo consent)."""

    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    NEVER_SUBSCRIBED = "never_subscribed"
    PENDING = "pending"
    UNKNOWN = "unknown"


class RefundState(enum.StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


#: Shopify's inventory quantity names; Square's IN_STOCK maps onto ``available`` and ``on_hand``.
QUANTITY_NAMES: tuple[str, ...] = (
    "available",
    "on_hand",
    "committed",
    "reserved",
    "incoming",
    "safety_stock",
)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency. Decimal, never float: loyalty and LTV add many of these."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        return cls(Decimal(str(amount)), currency.upper())

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot subtract {other.currency} from {self.currency}")
        return Money(self.amount - other.amount, self.currency)


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """Consent for one channel (email or SMS) as one source reports it."""

    state: ConsentState = ConsentState.UNKNOWN
    can_receive: bool = False
    updated_at: datetime | None = None
    method: str | None = None
    suppressed: bool = False


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer as one upstream knows it. Emails and phones are raw, as the vendor stores them;
    normalisation belongs to identity resolution, which must see the quirks to handle them."""

    source: Source
    id: str
    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    email_consent: Consent | None = None
    sms_consent: Consent | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    #: The location where a POS created the record, when the vendor says.
    location_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str | None
    title: str
    quantity: int
    unit_price: Money
    refunded_quantity: int = 0


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order from any system. ``channel`` is decided by the connector from the vendor's own
    signal (Shopify ``sourceName == "pos"``, Square ``source``); ``location_id`` is the unified
    location id once the connector has applied its location mapping."""

    source: Source
    id: str
    channel: Channel
    created_at: datetime
    total: Money
    customer_id: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    #: Codes the buyer entered (Shopify's discount codes), as the vendor reports them: a
    #: referral code among them makes a first order a referral.
    codes: tuple[str, ...] = ()
    location_id: str | None = None
    source_name: str | None = None
    refunded: Money | None = None
    line_items: tuple[LineItem, ...] = ()
    updated_at: datetime | None = None
    cancelled: bool = False
    #: Whether the buyer has paid (Shopify's financial status, a completed Square order):
    #: an authorised-only, pending, voided or expired order does not earn loyalty points.
    paid: bool = True

    @property
    def refund_state(self) -> RefundState:
        if self.refunded is None or self.refunded.amount <= 0:
            return RefundState.NONE
        if self.refunded.amount >= self.total.amount:
            return RefundState.FULL
        return RefundState.PARTIAL

    @property
    def net(self) -> Money:
        return self.total - self.refunded if self.refunded is not None else self.total


@dataclass(frozen=True, slots=True)
class CustomerBundle:
    """What one source knows of some customers and emails, read together: customers and
    their orders keyed by the customer ids as asked, and orders placed with each email
    (guest checkouts among them) keyed by the email as asked."""

    customers: dict[str, CustomerRecord] = field(default_factory=dict)
    orders: dict[str, list[OrderRecord]] = field(default_factory=dict)
    email_orders: dict[str, list[OrderRecord]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LocationRecord:
    source: Source
    id: str
    name: str
    kind: LocationKind = LocationKind.STORE
    address: Address = field(default_factory=Address)
    latitude: float | None = None
    longitude: float | None = None
    active: bool = True
    pickup_enabled: bool = False
    #: How long after an order the store usually has it ready (Shopify's ``pickupTime``).
    pickup_lead_time_minutes: int | None = None
    fulfils_online_orders: bool = False
    timezone: str | None = None
    #: The store's own contact details: cashiers type them for customers who give none,
    #: so identity resolution treats them as placeholders.
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogVariant:
    """One sellable variant as one source's catalog describes it. ``refs`` are the source's
    own ids for it, by kind (Shopify: ``variant`` and ``inventory_item``; Square:
    ``variation``): the SKU joins them across sources. ``currency`` is ``None`` where the
    source's variant does not carry one (Shopify prices are in the shop's currency)."""

    source: Source
    sku: str
    title: str
    refs: dict[str, str]
    price: Decimal | None = None
    currency: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InventoryLevel:
    """Quantities of one SKU at one location, as one source reports them at ``updated_at``.
    The timestamp is what lets the store refuse an older event that arrives late."""

    source: Source
    sku: str
    location_id: str
    quantities: dict[str, int]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MarketingProfile:
    """A profile in the email tool: contact, consent and the properties Omnigate writes back."""

    source: Source
    id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_consent: Consent | None = None
    sms_consent: Consent | None = None
    properties: dict[str, object] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Engagement:
    profile_id: str
    last_opened_at: datetime | None = None
    last_clicked_at: datetime | None = None
    last_event_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """Properties to write to one marketing profile (points, tier, LTV, ...)."""

    profile_id: str | None
    email: str | None
    properties: dict[str, object]


# --- Events parsed from webhooks -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """Base of every parsed webhook. ``event_id`` is the vendor's dedupe key."""

    source: Source
    event_id: str
    occurred_at: datetime | None


@dataclass(frozen=True, slots=True)
class CustomerChanged(WebhookEvent):
    customer_id: str
    deleted: bool = False
    customer: CustomerRecord | None = None


@dataclass(frozen=True, slots=True)
class OrderChanged(WebhookEvent):
    order_id: str
    customer_id: str | None = None
    order: OrderRecord | None = None


@dataclass(frozen=True, slots=True)
class RefundCreated(WebhookEvent):
    order_id: str
    refund_id: str
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class InventoryChanged(WebhookEvent):
    level: InventoryLevel | None = None
    #: Set when the vendor names the item by its own id and not by SKU (resolved later).
    item_ref: str | None = None
    location_ref: str | None = None


@dataclass(frozen=True, slots=True)
class LocationChanged(WebhookEvent):
    location_id: str
    location: LocationRecord | None = None


class PrivacyRequestKind(enum.StrEnum):
    DATA_REQUEST = "data_request"
    REDACT_CUSTOMER = "redact_customer"
    REDACT_SHOP = "redact_shop"


@dataclass(frozen=True, slots=True)
class PrivacyRequest(WebhookEvent):
    kind: PrivacyRequestKind
    customer_id: str | None = None
    email: str | None = None
    phone: str | None = None
