"""Demo-world records rendered as Admin GraphQL objects (plain dicts).

Scalar and single-object fields are filled eagerly; fields with arguments (connections,
``quantities(names:)``, ``refunds(first:)``) are resolved lazily by
:mod:`sandboxes.shopify.resolvers`, which finds the world record under the private
``_raw`` key (GraphQL never serves keys the schema does not name).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.records import Address, Consent, ConsentState
from sandboxes.demo import (
    DemoLocation,
    DemoVariant,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    StockLevel,
)
from sandboxes.shopify.state import SandboxState

Obj = dict[str, Any]

QUANTITY_NAMES = frozenset(
    {
        "available",
        "on_hand",
        "committed",
        "reserved",
        "incoming",
        "damaged",
        "quality_control",
        "safety_stock",
    }
)

_EMAIL_STATES = {
    ConsentState.SUBSCRIBED: "SUBSCRIBED",
    ConsentState.UNSUBSCRIBED: "UNSUBSCRIBED",
    ConsentState.NEVER_SUBSCRIBED: "NOT_SUBSCRIBED",
    ConsentState.PENDING: "PENDING",
    ConsentState.UNKNOWN: "NOT_SUBSCRIBED",
}
_OPT_IN_LEVELS = frozenset({"SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN"})
_COLLECTED_FROM = frozenset({"SHOPIFY", "OTHER"})
_PROVINCES = {
    "NY": "New York",
    "MA": "Massachusetts",
    "PA": "Pennsylvania",
    "IL": "Illinois",
    "DC": "District of Columbia",
    "NJ": "New Jersey",
    "CA": "California",
}


def gid(kind: str, id_: int | str) -> str:
    return f"gid://shopify/{kind}/{id_}"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal, currency: str) -> Obj:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> Obj:
    value = money(amount, currency)
    return {"shopMoney": value, "presentmentMoney": dict(value)}


def email_state(consent: Consent) -> str:
    if consent.suppressed:
        return "INVALID"
    return _EMAIL_STATES.get(consent.state, "NOT_SUBSCRIBED")


def sms_state(consent: Consent) -> str:
    if consent.suppressed:
        return "REDACTED"
    return _EMAIL_STATES.get(consent.state, "NOT_SUBSCRIBED")


def mailing_address(address: Address, id_: int, first: str | None, last: str | None) -> Obj:
    return {
        "__typename": "MailingAddress",
        "id": f"gid://shopify/MailingAddress/{id_}?model_name=CustomerAddress",
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "company": None,
        "country": "United States" if address.country_code == "US" else address.country_code,
        "countryCodeV2": address.country_code,
        "firstName": first,
        "lastName": last,
        "latitude": None,
        "longitude": None,
        "name": " ".join(p for p in (first, last) if p) or None,
        "phone": None,
        "province": _PROVINCES.get(address.region or "", address.region),
        "provinceCode": address.region,
        "zip": address.postal_code,
    }


def customer(state: SandboxState, c: ShopifyCustomer) -> Obj:
    orders = state.orders_of(c.id)
    spent = sum((o.net for o in orders), Decimal(0))
    addresses = [
        mailing_address(a, c.id + i, c.first_name, c.last_name) for i, a in enumerate(c.addresses)
    ]
    return {
        "__typename": "Customer",
        "_raw": c,
        "_addresses": addresses,
        "id": gid("Customer", c.id),
        "legacyResourceId": str(c.id),
        "firstName": c.first_name,
        "lastName": c.last_name,
        "displayName": f"{c.first_name} {c.last_name}".strip() or (c.email or ""),
        "note": c.note,
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
        "tags": list(c.tags),
        "state": c.state,
        "verifiedEmail": c.verified_email,
        "numberOfOrders": str(len(orders)),
        "amountSpent": money(spent, state.world.currency),
        "defaultEmailAddress": (
            {
                "emailAddress": c.email,
                "marketingState": email_state(c.email_consent),
                "marketingOptInLevel": _enum(c.email_consent.method, _OPT_IN_LEVELS),
                "marketingUpdatedAt": iso(c.email_consent.updated_at),
                "validFormat": "@" in c.email,
            }
            if c.email
            else None
        ),
        "defaultPhoneNumber": (
            {
                "phoneNumber": c.phone,
                "marketingState": sms_state(c.sms_consent),
                "marketingOptInLevel": "SINGLE_OPT_IN"
                if c.sms_consent.state is ConsentState.SUBSCRIBED
                else None,
                "marketingUpdatedAt": iso(c.sms_consent.updated_at),
                "marketingCollectedFrom": _enum(c.sms_consent.method, _COLLECTED_FROM),
            }
            if c.phone
            else None
        ),
        "defaultAddress": addresses[0] if addresses else None,
    }


def refunded_quantities(order: ShopifyOrder) -> dict[int, int]:
    refunded: dict[int, int] = {}
    for refund in order.refunds:
        for line in refund.lines:
            refunded[line.line_item_id] = refunded.get(line.line_item_id, 0) + line.quantity
    return refunded


def line_item(state: SandboxState, order: ShopifyOrder, item: ShopifyLineItem) -> Obj:
    refunded = refunded_quantities(order).get(item.id, 0)
    variant = state.variant(item.variant_id)
    current = max(0, item.quantity - refunded)
    return {
        "__typename": "LineItem",
        "_raw": item,
        "id": gid("LineItem", item.id),
        "sku": item.sku,
        "title": item.title,
        "name": f"{item.title} - {item.variant_title}" if item.variant_title else item.title,
        "variantTitle": item.variant_title or None,
        "quantity": item.quantity,
        "currentQuantity": current,
        "refundableQuantity": current,
        "originalUnitPriceSet": money_bag(item.price, order.currency),
        "variant": product_variant(state, variant) if variant is not None else None,
    }


def refund(order: ShopifyOrder, r: ShopifyRefund) -> Obj:
    return {
        "__typename": "Refund",
        "id": gid("Refund", r.id),
        "legacyResourceId": str(r.id),
        "createdAt": iso(r.created_at),
        "updatedAt": iso(r.created_at),
        "note": r.note,
        "totalRefundedSet": money_bag(r.amount, order.currency),
    }


def order(state: SandboxState, o: ShopifyOrder) -> Obj:
    owner = state.customer(o.customer_id) if o.customer_id is not None else None
    retail = state.location(o.location_id) if o.source_name == "pos" else None
    return {
        "__typename": "Order",
        "_raw": o,
        "id": gid("Order", o.id),
        "legacyResourceId": str(o.id),
        "name": o.name,
        "createdAt": iso(o.created_at),
        "updatedAt": iso(o.updated_at),
        "processedAt": iso(o.created_at),
        "cancelledAt": None,
        "displayFinancialStatus": o.financial_status.upper(),
        "closed": False,
        "email": o.email,
        "phone": o.phone,
        "note": None,
        "tags": [],
        "discountCodes": list(o.discount_codes),
        "test": False,
        "sourceName": o.source_name,
        "sourceIdentifier": None,
        "currencyCode": o.currency,
        "customer": customer(state, owner) if owner is not None else None,
        "retailLocation": location(state, retail) if retail is not None else None,
        "totalPriceSet": money_bag(o.total, o.currency),
        "currentTotalPriceSet": money_bag(o.net, o.currency),
        "subtotalPriceSet": money_bag(o.subtotal, o.currency),
        "totalRefundedSet": money_bag(o.refunded, o.currency),
    }


def location(state: SandboxState, loc: DemoLocation) -> Obj:
    address = loc.address
    active = state.location_active(loc)
    return {
        "__typename": "Location",
        "_raw": loc,
        "id": gid("Location", loc.shopify_location_id),
        "legacyResourceId": str(loc.shopify_location_id),
        "name": state.location_name(loc),
        "isActive": active,
        "deactivatedAt": None if active else iso(state.world.now),
        "fulfillsOnlineOrders": loc.fulfils_online,
        "shipsInventory": loc.fulfils_online,
        "hasActiveInventory": True,
        "createdAt": iso(loc.opened_at),
        "updatedAt": iso(loc.opened_at),
        "address": {
            "address1": address.line1,
            "address2": address.line2,
            "city": address.city,
            "country": "United States" if address.country_code == "US" else address.country_code,
            "countryCode": address.country_code,
            "formatted": [
                p
                for p in (
                    address.line1,
                    f"{address.city} {address.region} {address.postal_code}",
                    "United States",
                )
                if p
            ],
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "phone": loc.phone,
            "province": _PROVINCES.get(address.region or "", address.region),
            "provinceCode": address.region,
            "zip": address.postal_code,
        },
        "localPickupSettingsV2": (
            {"instructions": "Collect at the counter.", "pickupTime": loc.pickup_time}
            if loc.pickup_enabled
            else None
        ),
    }


def inventory_item(state: SandboxState, v: DemoVariant) -> Obj:
    created = iso(state.product_created(v))
    return {
        "__typename": "InventoryItem",
        "_raw": v,
        "id": gid("InventoryItem", v.shopify_inventory_item_id),
        "legacyResourceId": str(v.shopify_inventory_item_id),
        "sku": v.sku,
        "tracked": True,
        "createdAt": created,
        "updatedAt": created,
    }


def inventory_level(state: SandboxState, s: StockLevel) -> Obj:
    variant = state.world.variants_by_sku[s.sku]
    loc = state.world.locations_by_code[s.location_code]
    item_id = variant.shopify_inventory_item_id
    return {
        "__typename": "InventoryLevel",
        "_raw": s,
        "id": level_gid(loc.shopify_location_id, item_id),
        "createdAt": iso(state.product_created(variant)),
        "updatedAt": iso(s.updated_at),
        "item": inventory_item(state, variant),
        "location": location(state, loc),
    }


def level_gid(location_id: int, item_id: int) -> str:
    """Shopify's level ids carry the item as a query parameter; the sandbox uses the location
    id for the numeric part, which with the parameter identifies the level uniquely."""
    return f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"


def quantities(s: StockLevel, names: list[str]) -> list[Obj]:
    values = s.quantities()
    return [
        {
            "__typename": "InventoryQuantity",
            "id": f"gid://shopify/InventoryQuantity/{name}?inventory_level={s.sku}@{s.location_code}",
            "name": name,
            "quantity": values.get(name, 0),
            "updatedAt": iso(s.updated_at),
        }
        for name in names
    ]


#: The demo shop's id (one shop per sandbox).
SHOP_ID = 1


def shop(state: SandboxState) -> Obj:
    return {
        "__typename": "Shop",
        "id": gid("Shop", SHOP_ID),
        "currencyCode": state.world.currency,
    }


def product_variant(state: SandboxState, v: DemoVariant) -> Obj:
    created = iso(state.product_created(v))
    title = state.product_title(v)
    return {
        "__typename": "ProductVariant",
        "_raw": v,
        "id": gid("ProductVariant", v.shopify_variant_id),
        "legacyResourceId": str(v.shopify_variant_id),
        "sku": v.sku,
        "title": v.title,
        "displayName": f"{title} - {v.title}",
        "price": str(v.price),
        "createdAt": created,
        "updatedAt": created,
        "inventoryItem": inventory_item(state, v),
    }


def _enum(value: str | None, allowed: frozenset[str]) -> str | None:
    return value if value in allowed else None
