"""Square wire objects to domain records.

Pure functions over Square's JSON (as in ``shared/specs/square/api.json``): no I/O, so the
connector, the webhook parser and the tests share them. Square amounts are integers in the
currency's smallest unit (cents), turned into ``Decimal`` major units here once.

Channel: Square is the store POS, so an order is ``IN_STORE`` unless its ``source.name``
says it came from an online channel (Square Online, an e-commerce integration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
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
    Source,
)
from connectors.square.locations import LocationMap
from connectors.square.source import SOURCE

#: Substrings of ``source.name`` (lower-cased) that mark an online order.
ONLINE_SOURCE_MARKERS: tuple[str, ...] = ("online", "web", "ecom", "e-com", "weebly")

#: Currencies whose smallest unit is not 1/100 (ISO 4217 exponents).
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip

#: Refund states that move money back to the buyer (or are about to).
_COUNTED_REFUNDS = frozenset({"APPROVED", "PENDING", "COMPLETED"})

#: Inventory state Omnigate reads as on-hand sellable stock.
IN_STOCK = "IN_STOCK"

Json = Mapping[str, Any]


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp (Square sends up to nanoseconds; microseconds are kept)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def money(value: object) -> Money | None:
    """``{"amount": 1299, "currency": "USD"}`` -> ``Money(12.99, "USD")``."""
    if not isinstance(value, Mapping):
        return None
    amount, currency = value.get("amount"), value.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        return None
    exponent = _EXPONENTS.get(currency.upper(), 2)
    return Money(Decimal(amount).scaleb(-exponent), currency.upper())


def quantity(value: object) -> int:
    """Square quantities are decimal strings (``"1"``, ``"2.5"`` for weighed goods)."""
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


def channel_for(source_name: str | None, markers: Sequence[str] = ONLINE_SOURCE_MARKERS) -> Channel:
    if source_name:
        lowered = source_name.lower()
        if any(marker in lowered for marker in markers):
            return Channel.ONLINE
    return Channel.IN_STORE


def address(value: object) -> Address | None:
    if not isinstance(value, Mapping):
        return None
    parts = {
        "line1": value.get("address_line_1"),
        "line2": " ".join(
            str(v) for v in (value.get("address_line_2"), value.get("address_line_3")) if v
        )
        or None,
        "city": value.get("locality"),
        "region": value.get("administrative_district_level_1"),
        "postal_code": value.get("postal_code"),
        "country_code": value.get("country"),
    }
    if not any(parts.values()):
        return None
    return Address(**{k: str(v) if v is not None else None for k, v in parts.items()})


def customer(value: Json) -> CustomerRecord:
    """A Square ``Customer``. Email and phone stay as the POS stored them.

    Square keeps one marketing flag, ``preferences.email_unsubscribed``: ``true`` is an
    explicit opt-out; ``false`` (the default) only means "not unsubscribed", which is not an
    opt-in, so it maps to ``UNKNOWN``. Square has no SMS consent in the Customers API.
    """
    preferences = value.get("preferences") or {}
    unsubscribed = preferences.get("email_unsubscribed")
    email_consent: Consent | None = None
    if unsubscribed is True:
        email_consent = Consent(state=ConsentState.UNSUBSCRIBED, can_receive=False)
    elif unsubscribed is False:
        email_consent = Consent(state=ConsentState.UNKNOWN, can_receive=False)
    found_address = address(value.get("address"))
    email = value.get("email_address")
    phone = value.get("phone_number")
    return CustomerRecord(
        source=SOURCE,
        id=str(value["id"]),
        first_name=value.get("given_name") or None,
        last_name=value.get("family_name") or None,
        emails=(email,) if isinstance(email, str) and email else (),
        phones=(phone,) if isinstance(phone, str) and phone else (),
        addresses=(found_address,) if found_address is not None else (),
        email_consent=email_consent,
        created_at=parse_time(value.get("created_at")),
        updated_at=parse_time(value.get("updated_at")),
        note=value.get("note") or None,
    )


def catalog_variants(item: Json) -> list[CatalogVariant]:
    """The live variations with a SKU of one catalog ``ITEM``, titled "Item - Variation" as
    Shopify titles its variants, so both sources agree on a shopper's name for it."""
    if item.get("type") != "ITEM" or item.get("is_deleted"):
        return []
    data = item.get("item_data") or {}
    name = str(data.get("name") or "").strip()
    found: list[CatalogVariant] = []
    for variation in data.get("variations") or []:
        if not isinstance(variation, Mapping) or variation.get("is_deleted"):
            continue
        vdata = variation.get("item_variation_data") or {}
        sku = vdata.get("sku")
        if not isinstance(sku, str) or not sku.strip() or not variation.get("id"):
            continue
        own = str(vdata.get("name") or "").strip()
        price = money(vdata.get("price_money"))
        found.append(
            CatalogVariant(
                source=SOURCE,
                sku=sku.strip(),
                title=" - ".join(p for p in (name, own) if p) or sku.strip(),
                refs={"variation": str(variation["id"])},
                price=price.amount if price else None,
                currency=price.currency if price else None,
                updated_at=parse_time(variation.get("updated_at")),
            )
        )
    return found


def location(value: Json, locations: LocationMap) -> LocationRecord:
    coordinates = value.get("coordinates") or {}
    latitude, longitude = coordinates.get("latitude"), coordinates.get("longitude")
    return LocationRecord(
        source=SOURCE,
        id=locations.unified(str(value["id"])),
        name=str(value.get("name") or value.get("business_name") or value["id"]),
        kind=LocationKind.STORE,
        address=address(value.get("address")) or Address(),
        latitude=float(latitude) if isinstance(latitude, int | float) else None,
        longitude=float(longitude) if isinstance(longitude, int | float) else None,
        active=value.get("status", "ACTIVE") == "ACTIVE",
        timezone=value.get("timezone") or None,
        email=value.get("business_email") or None,
        phone=value.get("phone_number") or None,
    )


def _recipient(value: Json) -> Json:
    """The first fulfilment recipient: the only place a Square order carries contact data."""
    for fulfillment in value.get("fulfillments") or []:
        for key in ("pickup_details", "shipment_details", "delivery_details"):
            details = fulfillment.get(key) or {}
            recipient = details.get("recipient")
            if isinstance(recipient, Mapping):
                return recipient
    return {}


def order(
    value: Json,
    locations: LocationMap,
    skus: Mapping[str, str],
    *,
    returned: Mapping[str, int] | None = None,
    returned_money: Money | None = None,
    markers: Sequence[str] = ONLINE_SOURCE_MARKERS,
) -> OrderRecord:
    """A Square ``Order``.

    ``skus`` maps catalog object ids to SKUs (the catalog cache). ``returned`` (line item uid
    -> quantity) and ``returned_money`` come from the separate return orders Square creates
    for itemized returns (see :func:`fold_returns`).
    """
    source_name = (value.get("source") or {}).get("name") or None
    currency = (value.get("total_money") or {}).get("currency") or "USD"
    total = money(value.get("total_money")) or Money(Decimal(0), currency)
    refunded = _refunded(value, currency)
    if returned_money is not None and (refunded is None or returned_money.amount > refunded.amount):
        refunded = returned_money
    returned = returned or {}
    lines: list[LineItem] = []
    for item in value.get("line_items") or []:
        catalog_id = item.get("catalog_object_id")
        title = str(item.get("name") or "")
        variation = item.get("variation_name")
        if variation and variation not in title:
            title = f"{title} - {variation}" if title else str(variation)
        lines.append(
            LineItem(
                sku=skus.get(catalog_id) if isinstance(catalog_id, str) else None,
                title=title,
                quantity=quantity(item.get("quantity")),
                unit_price=money(item.get("base_price_money")) or Money(Decimal(0), currency),
                refunded_quantity=returned.get(str(item.get("uid")), 0),
            )
        )
    recipient = _recipient(value)
    location_id = value.get("location_id")
    return OrderRecord(
        source=SOURCE,
        id=str(value["id"]),
        channel=channel_for(source_name, markers),
        created_at=parse_time(value.get("created_at")) or datetime.fromtimestamp(0, UTC),
        total=total,
        customer_id=value.get("customer_id") or None,
        email=recipient.get("email_address") or None,
        phone=recipient.get("phone_number") or None,
        name=value.get("reference_id") or value.get("ticket_name") or None,
        location_id=locations.unified_or_none(location_id),
        source_name=source_name,
        refunded=refunded,
        line_items=tuple(lines),
        updated_at=parse_time(value.get("updated_at")),
        cancelled=value.get("state") == "CANCELED",
        # An OPEN order is still being rung up or paid for; COMPLETED is paid.
        paid=value.get("state") in (None, "COMPLETED"),
    )


def _refunded(value: Json, currency: str) -> Money | None:
    total: Money | None = None
    for refund in value.get("refunds") or []:
        if refund.get("status") not in _COUNTED_REFUNDS:
            continue
        amount = money(refund.get("amount_money"))
        if amount is None or amount.currency != currency:
            continue
        total = amount if total is None else total + amount
    return total


def is_return_order(value: Json) -> bool:
    """A return Square made for an itemized return: it has ``returns`` and no sale lines."""
    return bool(value.get("returns")) and not value.get("line_items")


def fold_returns(
    orders: Iterable[Json],
) -> tuple[list[Json], dict[str, dict[str, int]], dict[str, Money]]:
    """Split sale orders from return orders, and total what was returned per sale order.

    Returns ``(sales, quantities, amounts)``: ``quantities[order_id][line_uid]`` units returned
    and ``amounts[order_id]`` money returned, so the sale order's record carries its own
    refund and the return order is not counted as a second order.
    """
    sales: list[Json] = []
    quantities: dict[str, dict[str, int]] = {}
    amounts: dict[str, Money] = {}
    for value in orders:
        if not is_return_order(value):
            sales.append(value)
            continue
        for ret in value.get("returns") or []:
            source_id = ret.get("source_order_id")
            if not isinstance(source_id, str):
                continue
            per_line = quantities.setdefault(source_id, {})
            for line in ret.get("return_line_items") or []:
                uid = str(line.get("source_line_item_uid") or "")
                per_line[uid] = per_line.get(uid, 0) + quantity(line.get("quantity"))
            returned = money((ret.get("return_amounts") or {}).get("total_money"))
            if returned is None:
                returned = _sum_money(
                    money(line.get("total_money")) for line in ret.get("return_line_items") or []
                )
            if returned is not None:
                previous = amounts.get(source_id)
                amounts[source_id] = returned if previous is None else previous + returned
    return sales, quantities, amounts


def _sum_money(values: Iterable[Money | None]) -> Money | None:
    total: Money | None = None
    for value in values:
        if value is not None:
            total = value if total is None else total + value
    return total


def inventory_level(
    count: Json, sku: str, locations: LocationMap, *, source: Source = SOURCE
) -> InventoryLevel | None:
    """An ``IN_STOCK`` count as a level: Square's on-hand sellable quantity is both
    ``available`` and ``on_hand`` in Shopify's vocabulary."""
    if count.get("state") != IN_STOCK:
        return None
    location_id = count.get("location_id")
    calculated_at = parse_time(count.get("calculated_at"))
    if not isinstance(location_id, str) or calculated_at is None:
        return None
    on_hand = quantity(count.get("quantity"))
    return InventoryLevel(
        source=source,
        sku=sku,
        location_id=locations.unified(location_id),
        quantities={"available": on_hand, "on_hand": on_hand},
        updated_at=calculated_at,
    )
