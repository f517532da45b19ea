"""Webhook bodies in Shopify's REST shape, rendered from the sandbox state.

Timestamps are in the shop's time zone with an offset (``2026-09-03T08:44:10-04:00``), as
Shopify sends them, so the connector's parsing of offsets is exercised; money is a decimal
string; ids are numbers, with ``admin_graphql_api_id`` beside them.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.records import Address, Consent
from sandboxes.demo import (
    DemoLocation,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    StockLevel,
)
from sandboxes.shopify import render
from sandboxes.shopify.state import SandboxState

Obj = dict[str, Any]


def _shop_zone() -> tzinfo:
    try:
        return ZoneInfo("America/New_York")
    except ZoneInfoNotFoundError:  # pragma: no cover - systems without tz data
        return UTC


SHOP_ZONE = _shop_zone()


def rest_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.astimezone(SHOP_ZONE).replace(microsecond=0).isoformat()


def _amount(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _address(address: Address, first: str | None, last: str | None, id_: int) -> Obj:
    return {
        "id": id_,
        "first_name": first,
        "last_name": last,
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "province": address.region,
        "province_code": address.region,
        "zip": address.postal_code,
        "country": "United States" if address.country_code == "US" else address.country_code,
        "country_code": address.country_code,
        "default": True,
    }


def _consent(consent: Consent, state: str, *, sms: bool) -> Obj:
    body: Obj = {
        "state": state.lower(),
        "opt_in_level": (consent.method or "single_opt_in").lower() if not sms else None,
        "consent_updated_at": rest_time(consent.updated_at),
    }
    if sms:
        body["opt_in_level"] = "single_opt_in"
        body["consent_collected_from"] = consent.method or "OTHER"
    return body


def customer(state: SandboxState, c: ShopifyCustomer) -> Obj:
    orders = state.orders_of(c.id)
    addresses = [
        _address(a, c.first_name, c.last_name, c.id + i) for i, a in enumerate(c.addresses)
    ]
    return {
        "id": c.id,
        "email": c.email,
        "created_at": rest_time(c.created_at),
        "updated_at": rest_time(c.updated_at),
        "first_name": c.first_name,
        "last_name": c.last_name,
        "orders_count": len(orders),
        "state": c.state.lower(),
        "total_spent": _amount(sum((o.net for o in orders), Decimal(0))),
        "last_order_id": orders[-1].id if orders else None,
        "note": c.note,
        "verified_email": c.verified_email,
        "multipass_identifier": None,
        "tax_exempt": False,
        "tags": ", ".join(c.tags),
        "last_order_name": orders[-1].name if orders else None,
        "currency": state.world.currency,
        "phone": c.phone,
        "addresses": addresses,
        "tax_exemptions": [],
        "email_marketing_consent": (
            _consent(c.email_consent, render.email_state(c.email_consent), sms=False)
            if c.email
            else None
        ),
        "sms_marketing_consent": (
            _consent(c.sms_consent, render.sms_state(c.sms_consent), sms=True) if c.phone else None
        ),
        "admin_graphql_api_id": render.gid("Customer", c.id),
        "default_address": addresses[0] if addresses else None,
    }


def customer_deleted(id_: int) -> Obj:
    return {
        "id": id_,
        "phone": None,
        "addresses": [],
        "tax_exemptions": [],
        "email_marketing_consent": None,
        "sms_marketing_consent": None,
        "admin_graphql_api_id": render.gid("Customer", id_),
    }


def _line_item(order: ShopifyOrder, item: ShopifyLineItem, refunded: int) -> Obj:
    return {
        "id": item.id,
        "admin_graphql_api_id": render.gid("LineItem", item.id),
        "sku": item.sku,
        "title": item.title,
        "name": f"{item.title} - {item.variant_title}" if item.variant_title else item.title,
        "variant_title": item.variant_title or None,
        "quantity": item.quantity,
        "current_quantity": max(0, item.quantity - refunded),
        "price": _amount(item.price),
        "product_id": item.product_id,
        "variant_id": item.variant_id,
    }


def refund(order: ShopifyOrder, r: ShopifyRefund) -> Obj:
    lines_by_id = {line.id: line for line in order.lines}
    return {
        "id": r.id,
        "admin_graphql_api_id": render.gid("Refund", r.id),
        "order_id": order.id,
        "created_at": rest_time(r.created_at),
        "processed_at": rest_time(r.created_at),
        "note": r.note,
        "restock": r.restock,
        "refund_line_items": [
            {
                "id": line.id,
                "line_item_id": line.line_item_id,
                "quantity": line.quantity,
                "subtotal": _amount(line.subtotal),
                "total_tax": _amount(line.tax),
                "line_item": (
                    _line_item(order, lines_by_id[line.line_item_id], 0)
                    if line.line_item_id in lines_by_id
                    else None
                ),
            }
            for line in r.lines
        ],
        "transactions": [
            {
                "id": r.id + 1,
                "order_id": order.id,
                "kind": "refund",
                "status": "success",
                "amount": _amount(r.amount),
                "currency": order.currency,
                "gateway": "shopify_payments",
            }
        ],
    }


def order(state: SandboxState, o: ShopifyOrder) -> Obj:
    owner = state.customer(o.customer_id) if o.customer_id is not None else None
    refunded = render.refunded_quantities(o)
    return {
        "id": o.id,
        "admin_graphql_api_id": render.gid("Order", o.id),
        "name": o.name,
        "order_number": o.number,
        "email": o.email,
        "contact_email": o.email,
        "phone": o.phone,
        "created_at": rest_time(o.created_at),
        "updated_at": rest_time(o.updated_at),
        "processed_at": rest_time(o.created_at),
        "cancelled_at": None,
        "discount_codes": [
            {"code": code, "amount": "0.00", "type": "fixed_amount"} for code in o.discount_codes
        ],
        "currency": o.currency,
        "presentment_currency": o.currency,
        "source_name": o.source_name,
        "location_id": o.location_id if o.source_name == "pos" else None,
        "subtotal_price": _amount(o.subtotal),
        "total_tax": _amount(o.tax),
        "total_price": _amount(o.total),
        "current_total_price": _amount(o.net),
        "financial_status": o.financial_status,
        "customer": (
            {
                "id": owner.id,
                "email": owner.email,
                "first_name": owner.first_name,
                "last_name": owner.last_name,
                "phone": owner.phone,
                "admin_graphql_api_id": render.gid("Customer", owner.id),
            }
            if owner is not None
            else None
        ),
        "line_items": [_line_item(o, item, refunded.get(item.id, 0)) for item in o.lines],
        "refunds": [refund(o, r) for r in o.refunds],
    }


def inventory_level(state: SandboxState, s: StockLevel) -> Obj:
    variant = state.world.variants_by_sku[s.sku]
    loc = state.world.locations_by_code[s.location_code]
    return {
        "inventory_item_id": variant.shopify_inventory_item_id,
        "location_id": loc.shopify_location_id,
        "available": s.available,
        "updated_at": rest_time(s.updated_at),
        "admin_graphql_api_id": render.level_gid(
            loc.shopify_location_id, variant.shopify_inventory_item_id
        ),
    }


def location(state: SandboxState, loc: DemoLocation, updated_at: datetime) -> Obj:
    address = loc.address
    return {
        "id": loc.shopify_location_id,
        "name": state.location_name(loc),
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "zip": address.postal_code,
        "province": address.region,
        "country": address.country_code,
        "phone": loc.phone,
        "created_at": rest_time(loc.opened_at),
        "updated_at": rest_time(updated_at),
        "country_code": address.country_code,
        "country_name": "United States" if address.country_code == "US" else None,
        "province_code": address.region,
        "legacy": False,
        "active": state.location_active(loc),
        "admin_graphql_api_id": render.gid("Location", loc.shopify_location_id),
    }


def privacy(shop_domain: str, topic: str, c: ShopifyCustomer | None, shop_id: int) -> Obj:
    body: Obj = {"shop_id": shop_id, "shop_domain": shop_domain}
    if topic == "shop/redact" or c is None:
        return body
    body["customer"] = {"id": c.id, "email": c.email, "phone": c.phone}
    if topic == "customers/data_request":
        body["orders_requested"] = []
        body["data_request"] = {"id": c.id % 100000}
    else:
        body["orders_to_redact"] = []
    return body
