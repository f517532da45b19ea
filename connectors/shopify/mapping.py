"""Admin GraphQL objects -> domain records.

Emails and phones are kept exactly as Shopify returns them (identity resolution normalises).
Marketing states map onto :class:`ConsentState`; ``INVALID`` (a bouncing address) and
``REDACTED`` (erased phone) are reported as suppressed so nobody mails or texts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.records import (
    Address,
    CatalogVariant,
    Channel,
    Consent,
    ConsentState,
    CustomerRecord,
    InventoryLevel,
    LineItem,
    LocationKind,
    LocationRecord,
    Money,
    OrderRecord,
)
from connectors.shopify.ids import location_id
from connectors.shopify.source import SOURCE

Json = Mapping[str, Any]

#: Shopify's ``sourceName`` of orders taken on Shopify POS.
POS_SOURCE_NAME = "pos"

_CONSENT_STATES: dict[str, ConsentState] = {
    "SUBSCRIBED": ConsentState.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
    "NOT_SUBSCRIBED": ConsentState.NEVER_SUBSCRIBED,
    "PENDING": ConsentState.PENDING,
    "INVALID": ConsentState.UNKNOWN,
    "REDACTED": ConsentState.UNKNOWN,
}
_SUPPRESSED_STATES = frozenset({"INVALID", "REDACTED"})


def parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_money(value: object, fallback_currency: str | None = None) -> Money | None:
    """A ``MoneyV2`` (``{amount, currencyCode}``) or a ``MoneyBag``'s ``shopMoney``."""
    if not isinstance(value, Mapping):
        return None
    if "shopMoney" in value:
        return parse_money(value.get("shopMoney"), fallback_currency)
    currency = value.get("currencyCode") or fallback_currency
    amount = value.get("amount")
    if amount is None or not currency:
        return None
    try:
        return Money(Decimal(str(amount)), str(currency).upper())
    except InvalidOperation:
        return None


def consent(state: object, *, updated_at: object = None, method: object = None) -> Consent:
    """A Shopify marketing state (``SUBSCRIBED``, ``subscribed``, ...) as a :class:`Consent`."""
    key = str(state or "").upper()
    mapped = _CONSENT_STATES.get(key, ConsentState.UNKNOWN)
    return Consent(
        state=mapped,
        can_receive=mapped is ConsentState.SUBSCRIBED,
        updated_at=parse_datetime(updated_at),
        method=str(method).lower() if method else None,
        suppressed=key in _SUPPRESSED_STATES,
    )


def customer(node: Json) -> CustomerRecord:
    email = node.get("defaultEmailAddress") or {}
    phone = node.get("defaultPhoneNumber") or {}
    address = node.get("defaultAddress")
    return CustomerRecord(
        source=SOURCE,
        id=str(node["id"]),
        first_name=node.get("firstName") or None,
        last_name=node.get("lastName") or None,
        emails=(email["emailAddress"],) if email.get("emailAddress") else (),
        phones=(phone["phoneNumber"],) if phone.get("phoneNumber") else (),
        addresses=(mailing_address(address),) if isinstance(address, Mapping) else (),
        email_consent=(
            consent(
                email.get("marketingState"),
                updated_at=email.get("marketingUpdatedAt"),
                method=email.get("marketingOptInLevel"),
            )
            if email
            else None
        ),
        sms_consent=(
            consent(
                phone.get("marketingState"),
                updated_at=phone.get("marketingUpdatedAt"),
                method=phone.get("marketingOptInLevel"),
            )
            if phone
            else None
        ),
        created_at=parse_datetime(node.get("createdAt")),
        updated_at=parse_datetime(node.get("updatedAt")),
        note=node.get("note") or None,
    )


def mailing_address(node: Json) -> Address:
    return Address(
        line1=node.get("address1") or None,
        line2=node.get("address2") or None,
        city=node.get("city") or None,
        region=node.get("provinceCode") or None,
        postal_code=node.get("zip") or None,
        country_code=node.get("countryCodeV2") or node.get("countryCode") or None,
    )


def channel(source_name: object) -> Channel:
    return Channel.IN_STORE if source_name == POS_SOURCE_NAME else Channel.ONLINE


def line_item(node: Json, currency: str) -> LineItem:
    quantity = int(node.get("quantity") or 0)
    current = node.get("currentQuantity")
    price = parse_money(node.get("originalUnitPriceSet"), currency) or Money(Decimal(0), currency)
    return LineItem(
        sku=node.get("sku") or None,
        title=str(node.get("name") or node.get("title") or ""),
        quantity=quantity,
        unit_price=price,
        refunded_quantity=max(0, quantity - int(current)) if current is not None else 0,
    )


def order(node: Json, line_items: list[Json] | None = None) -> OrderRecord:
    """An order; ``line_items`` overrides the first page in the node when more were fetched.

    A POS order takes its store from ``retailLocation``; an online order has no location.
    """
    currency = str(node.get("currencyCode") or "USD")
    total = parse_money(node.get("totalPriceSet"), currency) or Money(Decimal(0), currency)
    refunded = parse_money(node.get("totalRefundedSet"), currency)
    customer_node = node.get("customer")
    retail = node.get("retailLocation")
    source_name = node.get("sourceName")
    created = parse_datetime(node.get("createdAt")) or parse_datetime(node.get("processedAt"))
    if created is None:
        raise ValueError("order without createdAt")
    items = line_items if line_items is not None else _nodes(node.get("lineItems"))
    return OrderRecord(
        source=SOURCE,
        id=str(node["id"]),
        channel=channel(source_name),
        created_at=created,
        total=total,
        customer_id=str(customer_node["id"]) if isinstance(customer_node, Mapping) else None,
        email=node.get("email") or None,
        phone=node.get("phone") or None,
        name=node.get("name") or None,
        codes=tuple(str(c) for c in node.get("discountCodes") or () if c),
        location_id=location_id(retail["id"]) if isinstance(retail, Mapping) else None,
        source_name=str(source_name) if source_name else None,
        refunded=refunded if refunded is not None and refunded.amount > 0 else None,
        line_items=tuple(line_item(item, currency) for item in items),
        updated_at=parse_datetime(node.get("updatedAt")),
        cancelled=node.get("cancelledAt") is not None,
        paid=paid(node.get("displayFinancialStatus")),
    )


#: ``OrderDisplayFinancialStatus`` values of an order its buyer has paid (refunds are
#: accounted for apart). ``PARTIALLY_PAID``, ``PENDING``, ``AUTHORIZED``, ``EXPIRED`` and
#: ``VOIDED`` are not paid yet, or never will be.
PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})


def paid(status: object) -> bool:
    """Whether a financial status (GraphQL ``PAID`` or a webhook's ``paid``) means paid; an
    order without one (an older cached body) counts as paid."""
    return status is None or str(status).upper() in PAID_STATUSES


#: ``DeliveryLocalPickupTime`` -> minutes until an order is usually ready. Ranges take their
#: upper end (a promise should not be early); ``CUSTOM`` (deprecated) says nothing.
PICKUP_TIME_MINUTES: dict[str, int] = {
    "ONE_HOUR": 60,
    "TWO_HOURS": 120,
    "FOUR_HOURS": 240,
    "TWENTY_FOUR_HOURS": 24 * 60,
    "TWO_TO_FOUR_DAYS": 4 * 24 * 60,
    "FIVE_OR_MORE_DAYS": 5 * 24 * 60,
}


def pickup_lead_time(settings: object) -> int | None:
    """Minutes of ``localPickupSettingsV2.pickupTime``; ``None`` without pickup or a known
    value."""
    if not isinstance(settings, Mapping):
        return None
    return PICKUP_TIME_MINUTES.get(str(settings.get("pickupTime")))


def location(node: Json) -> LocationRecord:
    """A location. Shopify has no store/warehouse flag: a location that offers no local pickup
    but fulfils online orders is taken for a warehouse, anything else for a store."""
    address = node.get("address") or {}
    pickup = node.get("localPickupSettingsV2") is not None
    fulfils = bool(node.get("fulfillsOnlineOrders"))
    return LocationRecord(
        source=SOURCE,
        id=location_id(node["id"]),
        name=str(node.get("name") or ""),
        kind=LocationKind.WAREHOUSE if fulfils and not pickup else LocationKind.STORE,
        address=mailing_address(address),
        latitude=_float(address.get("latitude")),
        longitude=_float(address.get("longitude")),
        active=bool(node.get("isActive", True)),
        pickup_enabled=pickup,
        pickup_lead_time_minutes=pickup_lead_time(node.get("localPickupSettingsV2")),
        fulfils_online_orders=fulfils,
        # The store's own number: cashiers type it for customers who give none.
        phone=_text(address.get("phone")),
    )


def catalog_variant(node: Json, *, currency: str | None = None) -> CatalogVariant | None:
    """A product variant for the catalog map; ``None`` without a SKU (it cannot be joined).
    ``displayName`` ("Organic Cotton Tee - Black / M") is the title a shopper recognises;
    the price is a decimal string in the shop's currency (``shop.currencyCode``), which the
    variant does not name."""
    sku = _text(node.get("sku"))
    if sku is None:
        return None
    refs = {"variant": str(node["id"])}
    item = node.get("inventoryItem")
    if isinstance(item, Mapping) and item.get("id"):
        refs["inventory_item"] = str(item["id"])
    price = node.get("price")
    try:
        amount = Decimal(str(price)) if price is not None else None
    except ArithmeticError:
        amount = None
    return CatalogVariant(
        source=SOURCE,
        sku=sku,
        title=str(node.get("displayName") or node.get("title") or sku),
        refs=refs,
        price=amount,
        currency=currency if isinstance(currency, str) and currency else None,
        updated_at=parse_datetime(node.get("updatedAt")),
    )


def inventory_level(sku: str, node: Json) -> InventoryLevel | None:
    location_node = node.get("location")
    updated = parse_datetime(node.get("updatedAt"))
    if not isinstance(location_node, Mapping) or updated is None:
        return None
    quantities = {
        str(q["name"]): int(q["quantity"])
        for q in node.get("quantities") or ()
        if isinstance(q, Mapping) and q.get("name") is not None and q.get("quantity") is not None
    }
    return InventoryLevel(
        source=SOURCE,
        sku=sku,
        location_id=location_id(location_node["id"]),
        quantities=quantities,
        updated_at=updated,
    )


def _nodes(connection: object) -> list[Json]:
    if not isinstance(connection, Mapping):
        return []
    return [n for n in connection.get("nodes") or () if isinstance(n, Mapping)]


def nodes(connection: object) -> list[Json]:
    """The ``nodes`` of a connection, ignoring nulls."""
    return _nodes(connection)


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(value: object) -> str | None:
    """A non-blank string, stripped, or ``None``."""
    return value.strip() or None if isinstance(value, str) else None
