"""The demo world in Square's wire format (``shared/specs/square/api.json``).

Pure functions from the world's records to Square JSON objects. They never emit fields the
spec does not define (contract tests hold them to the component schemas with unknown
properties forbidden), and never emit the world's ground truth (``person_id``...).

Square shapes worth knowing:

- Money is an integer in the currency's smallest unit.
- An itemized refund is two things in Square: a ``Refund`` in the sale order's ``refunds``,
  and a separate *return order* whose ``returns[].source_order_id`` names the sale order.
- Inventory is one ``InventoryCount`` per (variation, location, state); the sellable
  quantity is state ``IN_STOCK``, and ``calculated_at`` is when it last changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.records import Address
from sandboxes.demo.world import (
    DemoLocation,
    DemoProduct,
    DemoVariant,
    DemoWorld,
    SquareCustomer,
    SquareOrder,
    SquareRefund,
    StockLevel,
)
from sandboxes.square.units import minor_units

JSON = dict[str, Any]

#: Square's refund statuses on ``Order.refunds`` (``Refund``) differ from the Refunds API's
#: (``PaymentRefund``), which the world uses.
_ORDER_REFUND_STATUS = {"COMPLETED": "APPROVED", "PENDING": "PENDING"}


def timestamp(at: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Square writes them: ``2026-03-01T17:04:05.123Z``."""
    utc = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def money(amount: Decimal, currency: str) -> JSON:
    return {"amount": minor_units(amount, currency), "currency": currency}


def address(value: Address | None) -> JSON | None:
    if value is None:
        return None
    out: JSON = {}
    if value.line1:
        out["address_line_1"] = value.line1
    if value.line2:
        out["address_line_2"] = value.line2
    if value.city:
        out["locality"] = value.city
    if value.region:
        out["administrative_district_level_1"] = value.region
    if value.postal_code:
        out["postal_code"] = value.postal_code
    if value.country_code:
        out["country"] = value.country_code
    return out or None


def derived_id(*parts: str, length: int = 27) -> str:
    """A stable Square-looking id derived from other ids (return orders, tenders)."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest().upper()
    return digest[:length]


# --- locations --------------------------------------------------------------------------------


def location(loc: DemoLocation, world: DemoWorld, merchant_id: str) -> JSON:
    assert loc.square_location_id is not None
    out: JSON = {
        "id": loc.square_location_id,
        "name": loc.name,
        "address": address(loc.address),
        "timezone": loc.timezone,
        "capabilities": ["CREDIT_CARD_PROCESSING"],
        "status": "ACTIVE",
        "created_at": timestamp(loc.opened_at),
        "merchant_id": merchant_id,
        "country": loc.address.country_code or "US",
        "language_code": "en-US",
        "currency": world.currency,
        "phone_number": loc.phone,
        "business_name": world.retailer_name,
        "type": "PHYSICAL",
        "business_email": loc.email,
        "coordinates": {"latitude": loc.latitude, "longitude": loc.longitude},
        "mcc": "5651",
    }
    return {k: v for k, v in out.items() if v is not None}


# --- customers --------------------------------------------------------------------------------


def customer(value: SquareCustomer) -> JSON:
    out: JSON = {
        "id": value.id,
        "created_at": timestamp(value.created_at),
        "updated_at": timestamp(value.updated_at),
        "given_name": value.given_name,
        "family_name": value.family_name,
        "email_address": value.email_address,
        "address": address(value.address),
        "phone_number": value.phone_number,
        "reference_id": value.reference_id,
        "note": value.note,
        "preferences": {"email_unsubscribed": value.email_unsubscribed},
        "creation_source": value.creation_source,
        "version": value.version,
    }
    return {k: v for k, v in out.items() if v is not None}


# --- catalog ----------------------------------------------------------------------------------


def variation(variant: DemoVariant, product: DemoProduct, ordinal: int, currency: str) -> JSON:
    return {
        "type": "ITEM_VARIATION",
        "id": variant.square_variation_id,
        "updated_at": timestamp(product.created_at),
        "version": _version(product.created_at),
        "is_deleted": False,
        "present_at_all_locations": True,
        "item_variation_data": {
            "item_id": product.square_item_id,
            "name": variant.title,
            "sku": variant.sku,
            "upc": variant.barcode,
            "ordinal": ordinal,
            "pricing_type": "FIXED_PRICING",
            "price_money": money(variant.price, currency),
            "track_inventory": True,
            "sellable": True,
            "stockable": True,
        },
    }


def item(product: DemoProduct, currency: str) -> JSON:
    return {
        "type": "ITEM",
        "id": product.square_item_id,
        "updated_at": timestamp(product.created_at),
        "version": _version(product.created_at),
        "is_deleted": False,
        "present_at_all_locations": True,
        "item_data": {
            "name": product.title,
            "is_taxable": True,
            "variations": [
                variation(v, product, i, currency) for i, v in enumerate(product.variants, 1)
            ],
            "product_type": "REGULAR",
            "skip_modifier_screen": True,
        },
    }


def _version(at: datetime) -> int:
    """Catalog versions are millisecond timestamps in Square."""
    return int(at.timestamp() * 1000)


# --- inventory --------------------------------------------------------------------------------


def inventory_count(level: StockLevel, variant: DemoVariant, square_location_id: str) -> JSON:
    """The ``IN_STOCK`` count: what a Square store can sell now."""
    return {
        "catalog_object_id": variant.square_variation_id,
        "catalog_object_type": "ITEM_VARIATION",
        "state": "IN_STOCK",
        "location_id": square_location_id,
        "quantity": str(max(0, level.available)),
        "calculated_at": timestamp(level.updated_at),
        "is_estimated": False,
    }


# --- orders -----------------------------------------------------------------------------------


def _tax_share(line_total: Decimal, order: SquareOrder) -> Decimal:
    return (line_total * order.tax_rate).quantize(Decimal("0.01"))


def order(value: SquareOrder, world: DemoWorld) -> JSON:
    currency = value.currency
    zero = money(Decimal(0), currency)
    lines: list[JSON] = []
    for line in value.lines:
        gross = line.base_price * line.quantity
        tax = _tax_share(gross, value)
        lines.append(
            {
                "uid": line.uid,
                "name": line.name,
                "quantity": str(line.quantity),
                "catalog_object_id": line.catalog_object_id,
                "variation_name": line.variation_name,
                "item_type": "ITEM",
                "base_price_money": money(line.base_price, currency),
                "variation_total_price_money": money(gross, currency),
                "gross_sales_money": money(gross, currency),
                "total_tax_money": money(tax, currency),
                "total_discount_money": zero,
                "total_money": money(gross + tax, currency),
                "total_service_charge_money": zero,
            }
        )
    tender_id = derived_id("tender", value.payment_id, length=26)
    tender: JSON = {
        "id": tender_id,
        "location_id": value.location_id,
        "transaction_id": value.id,
        "created_at": timestamp(value.closed_at),
        "amount_money": money(value.total, currency),
        "type": value.tender_type,
        "payment_id": value.payment_id,
    }
    if value.customer_id:
        tender["customer_id"] = value.customer_id
    if value.tender_type == "CARD":
        tender["card_details"] = {"status": "CAPTURED", "entry_method": "EMV"}
    elif value.tender_type == "CASH":
        cash = money(value.total, currency)
        tender["cash_details"] = {"buyer_tendered_money": cash, "change_back_money": zero}
    refunds = [
        {
            "id": refund.id,
            "location_id": value.location_id,
            "transaction_id": value.id,
            "tender_id": tender_id,
            "created_at": timestamp(refund.created_at),
            "reason": refund.reason,
            "amount_money": money(refund.amount, currency),
            "status": _ORDER_REFUND_STATUS.get(refund.status, refund.status),
        }
        for refund in value.refunds
    ]
    returned = sum((r.amount for r in value.refunds), Decimal(0))
    out: JSON = {
        "id": value.id,
        "location_id": value.location_id,
        "source": {"name": value.source_name},
        "line_items": lines,
        "tenders": [tender],
        "created_at": timestamp(value.created_at),
        "updated_at": timestamp(value.updated_at),
        "closed_at": timestamp(value.closed_at),
        "state": value.state,
        "version": value.version,
        "total_money": money(value.total, currency),
        "total_tax_money": money(value.tax, currency),
        "total_discount_money": zero,
        "total_tip_money": zero,
        "total_service_charge_money": zero,
        "net_amount_due_money": zero,
        "net_amounts": {
            "total_money": money(value.total - returned, currency),
            "tax_money": money(value.tax, currency),
            "discount_money": zero,
            "tip_money": zero,
            "service_charge_money": zero,
        },
    }
    if value.customer_id:
        out["customer_id"] = value.customer_id
    if refunds:
        out["refunds"] = refunds
    return out


def return_order_id(refund: SquareRefund) -> str:
    return derived_id("return", refund.id)


def return_order(value: SquareOrder, refund: SquareRefund) -> JSON | None:
    """The return order Square creates for an itemized refund; ``None`` for an amount-only
    refund (no returned lines)."""
    if not refund.lines:
        return None
    currency = value.currency
    zero = money(Decimal(0), currency)
    by_uid = {line.uid: line for line in value.lines}
    lines: list[JSON] = []
    subtotal = tax = Decimal(0)
    for line in refund.lines:
        sold = by_uid.get(line.source_line_item_uid)
        subtotal += line.subtotal
        tax += line.tax
        entry: JSON = {
            "uid": line.uid,
            "source_line_item_uid": line.source_line_item_uid,
            "name": sold.name if sold else line.sku,
            "quantity": str(line.quantity),
            "item_type": "ITEM",
            "gross_return_money": money(line.subtotal, currency),
            "total_tax_money": money(line.tax, currency),
            "total_discount_money": zero,
            "total_money": money(line.subtotal + line.tax, currency),
        }
        if sold is not None:
            entry["catalog_object_id"] = sold.catalog_object_id
            entry["variation_name"] = sold.variation_name
            entry["base_price_money"] = money(sold.base_price, currency)
        lines.append(entry)
    amounts = {
        "total_money": money(subtotal + tax, currency),
        "tax_money": money(tax, currency),
        "discount_money": zero,
        "tip_money": zero,
        "service_charge_money": zero,
    }
    out: JSON = {
        "id": return_order_id(refund),
        "location_id": value.location_id,
        "source": {"name": value.source_name},
        "returns": [
            {
                "uid": derived_id("return-uid", refund.id, length=22),
                "source_order_id": value.id,
                "return_line_items": lines,
                "return_amounts": amounts,
            }
        ],
        "return_amounts": amounts,
        "net_amounts": {
            **amounts,
            "total_money": money(-(subtotal + tax), currency),
            "tax_money": money(-tax, currency),
        },
        "created_at": timestamp(refund.created_at),
        "updated_at": timestamp(refund.created_at),
        "closed_at": timestamp(refund.created_at),
        "state": "COMPLETED",
        "version": 1,
        "total_money": zero,
        "total_tax_money": zero,
        "total_discount_money": zero,
        "total_tip_money": zero,
        "total_service_charge_money": zero,
        "net_amount_due_money": zero,
    }
    if value.customer_id:
        out["customer_id"] = value.customer_id
    return out


def payment_refund(value: SquareOrder, refund: SquareRefund) -> JSON:
    """The Refunds API object (``refund.created`` / ``refund.updated`` webhooks)."""
    return {
        "id": refund.id,
        "status": refund.status,
        "location_id": value.location_id,
        "amount_money": money(refund.amount, value.currency),
        "payment_id": value.payment_id,
        "order_id": value.id,
        "reason": refund.reason,
        "created_at": timestamp(refund.created_at),
        "updated_at": timestamp(refund.created_at),
    }


def all_orders(world: DemoWorld) -> Iterable[JSON]:
    for value in world.square_orders:
        yield order(value, world)
        for refund in value.refunds:
            returned = return_order(value, refund)
            if returned is not None:
                yield returned
