"""The shape of each Shopify webhook topic's body, checked before anything acts on it.

Shopify signs only the body; ``X-Shopify-Topic`` is an unsigned header. Without these models a
captured ``orders/create`` body re-sent as ``customers/redact`` was read as a redact request
for the order's buyer. Each model is strict where it tells one kind of body from another:

* the fields a body of its kind always carries are required, with their JSON types (an
  order's ``line_items`` and ``name`` or ``order_number``; a redact request's ``shop_id``,
  ``shop_domain``, ``customer.id`` and ``orders_to_redact``; a customer's ``created_at``);
* the fields that mark *another* kind (an order's ``line_items``, a privacy request's
  ``shop_domain``, an inventory level's ``inventory_item_id``, ...) are refused when they
  carry a value, so no body passes for two kinds;
* a ``customers/delete`` notice carries an id and emptied fields (Shopify sends no personal
  data once a customer is gone): a live customer record under that topic is refused.

They are lenient elsewhere: unknown fields are allowed (Shopify adds fields between API
versions), optional fields may be absent or null, and ids are JSON numbers or digit strings.
Field types are checked exactly (``"email": 123`` is an error, not coerced), so a body the
mapping could not use is refused here, with the field named, rather than failing deeper in.

The models gate; :mod:`connectors.shopify.webhooks` still maps the body itself.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

#: A Shopify id: a JSON number (digit strings are accepted, as some tools re-serialise ids).
Id = Annotated[int, Field(ge=0)]
#: Money is a decimal string in REST bodies; a number is taken too.
Amount = StrictStr | StrictInt | StrictFloat

_ORDER = frozenset({"line_items", "order_number", "financial_status", "total_price"})
_REFUND = frozenset({"refund_line_items", "order_adjustments", "order_id"})
_INVENTORY = frozenset({"inventory_item_id"})
_PRIVACY = frozenset({"shop_id", "shop_domain", "orders_to_redact", "orders_requested"})
_LOCATION = frozenset({"name", "address1", "city", "province_code", "country_code", "legacy"})
_CUSTOMER = frozenset(
    {"email", "first_name", "last_name", "verified_email", "orders_count", "default_address"}
)


class Payload(BaseModel):
    """Base of every topic's model: extra fields allowed, foreign markers refused."""

    model_config = ConfigDict(extra="allow")

    #: Fields that, when they carry a value, say the body is of another kind.
    foreign: ClassVar[frozenset[str]] = frozenset()
    #: What the body is, for error messages.
    what: ClassVar[str] = "payload"

    @model_validator(mode="before")
    @classmethod
    def _not_another_kind(cls, data: Any) -> Any:
        if isinstance(data, dict):
            found = sorted(f for f in cls.foreign if data.get(f) not in (None, "", [], {}))
            if found:
                raise ValueError(f"has {', '.join(found)}, which no {cls.what} carries")
        return data


# --- customers ------------------------------------------------------------------------------


class Customer(Payload):
    """``customers/create`` and ``customers/update``: a full customer record."""

    what = "customer"
    foreign = _ORDER | _REFUND | _INVENTORY | _PRIVACY | _LOCATION

    id: Id
    created_at: StrictStr
    updated_at: StrictStr | None = None
    email: StrictStr | None = None
    phone: StrictStr | None = None
    first_name: StrictStr | None = None
    last_name: StrictStr | None = None
    note: StrictStr | None = None
    addresses: list[dict[str, Any]] | None = None
    default_address: dict[str, Any] | None = None
    email_marketing_consent: dict[str, Any] | None = None
    sms_marketing_consent: dict[str, Any] | None = None
    admin_graphql_api_id: StrictStr | None = None


class CustomerDeleted(Payload):
    """``customers/delete``: ``{id, phone: null, addresses: [], ...}`` and nothing personal."""

    what = "customer deletion notice"
    foreign = _CUSTOMER | _ORDER | _REFUND | _INVENTORY | _PRIVACY | _LOCATION

    id: Id
    admin_graphql_api_id: StrictStr | None = None


# --- orders and refunds -----------------------------------------------------------------------


class LineItem(Payload):
    sku: StrictStr | None = None
    name: StrictStr | None = None
    title: StrictStr | None = None
    quantity: int = 0
    current_quantity: int | None = None
    price: Amount | None = None


class Transaction(Payload):
    kind: StrictStr | None = None
    status: StrictStr | None = None
    amount: Amount | None = None
    currency: StrictStr | None = None


class RefundLine(Payload):
    subtotal: Amount | None = None
    total_tax: Amount | None = None


class CustomerRef(Payload):
    id: Id
    email: StrictStr | None = None
    admin_graphql_api_id: StrictStr | None = None


class DiscountCode(Payload):
    code: StrictStr
    amount: Amount | None = None
    type: StrictStr | None = None


class RefundOfOrder(Payload):
    """A refund inside an order body."""

    transactions: list[Transaction] = []
    refund_line_items: list[RefundLine] = []


class Order(Payload):
    """``orders/create`` and ``orders/updated``."""

    what = "order"
    foreign = _REFUND | _INVENTORY | _PRIVACY

    id: Id
    created_at: StrictStr
    updated_at: StrictStr | None = None
    name: StrictStr | None = None
    order_number: int | None = None
    line_items: list[LineItem]
    email: StrictStr | None = None
    contact_email: StrictStr | None = None
    phone: StrictStr | None = None
    customer: CustomerRef | None = None
    currency: StrictStr | None = None
    presentment_currency: StrictStr | None = None
    total_price: Amount | None = None
    source_name: StrictStr | None = None
    location_id: Id | None = None
    cancelled_at: StrictStr | None = None
    refunds: list[RefundOfOrder] | None = None
    discount_codes: list[DiscountCode] | None = None
    admin_graphql_api_id: StrictStr | None = None

    @model_validator(mode="after")
    def _numbered(self) -> Order:
        if self.name is None and self.order_number is None:
            raise ValueError("an order has a name or an order_number")
        return self


class Refund(Payload):
    """``refunds/create``."""

    what = "refund"
    foreign = _ORDER | _INVENTORY | _PRIVACY | _CUSTOMER | _LOCATION

    id: Id
    order_id: Id
    created_at: StrictStr | None = None
    transactions: list[Transaction] = []
    refund_line_items: list[RefundLine] = []
    admin_graphql_api_id: StrictStr | None = None


# --- inventory and locations ------------------------------------------------------------------


class InventoryLevel(Payload):
    """``inventory_levels/update``."""

    what = "inventory level"
    foreign = _ORDER | _REFUND | _PRIVACY | _CUSTOMER

    inventory_item_id: Id
    location_id: Id
    available: int | None = None
    updated_at: StrictStr | None = None


class Location(Payload):
    """``locations/update``."""

    what = "location"
    foreign = _ORDER | _REFUND | _INVENTORY | _PRIVACY | _CUSTOMER

    id: Id
    name: StrictStr | None = None
    address1: StrictStr | None = None
    address2: StrictStr | None = None
    city: StrictStr | None = None
    province_code: StrictStr | None = None
    zip: StrictStr | None = None
    country_code: StrictStr | None = None
    active: bool | None = None
    updated_at: StrictStr | None = None


# --- mandatory privacy topics -----------------------------------------------------------------


class PrivacyCustomer(Payload):
    id: Id
    email: StrictStr | None = None
    phone: StrictStr | None = None


class CustomerRedact(Payload):
    """``customers/redact``: ``{shop_id, shop_domain, customer{id,email,phone},
    orders_to_redact[]}``. Destructive: every field is required."""

    what = "customer redact request"
    foreign = _ORDER | _REFUND | _INVENTORY | {"orders_requested", "data_request"}

    shop_id: Id
    shop_domain: StrictStr
    customer: PrivacyCustomer
    orders_to_redact: list[Id]


class CustomerDataRequest(Payload):
    """``customers/data_request``: ``{shop_id, shop_domain, customer, orders_requested[],
    data_request{id}}``."""

    what = "customer data request"
    foreign = _ORDER | _REFUND | _INVENTORY | {"orders_to_redact"}

    shop_id: Id
    shop_domain: StrictStr
    customer: PrivacyCustomer
    orders_requested: list[Id] = []
    data_request: dict[str, Any] | None = None


class ShopRedact(Payload):
    """``shop/redact``: ``{shop_id, shop_domain}`` and nothing about any one customer."""

    what = "shop redact request"
    foreign = _ORDER | _REFUND | _INVENTORY | {"customer", "orders_to_redact", "orders_requested"}

    shop_id: Id
    shop_domain: StrictStr


PAYLOADS: dict[str, type[Payload]] = {
    "customers/create": Customer,
    "customers/update": Customer,
    "customers/delete": CustomerDeleted,
    "orders/create": Order,
    "orders/updated": Order,
    "refunds/create": Refund,
    "inventory_levels/update": InventoryLevel,
    "locations/update": Location,
    "customers/data_request": CustomerDataRequest,
    "customers/redact": CustomerRedact,
    "shop/redact": ShopRedact,
}
