"""Shopify webhooks: verify ``X-Shopify-Hmac-Sha256`` and parse deliveries into domain events.

Verification is base64(HMAC-SHA256(app client secret, raw body)) compared in constant time,
on the exact bytes received and before anything is decoded. Parsing is by ``X-Shopify-Topic``;
bodies are Shopify's REST-shaped JSON. Every event carries ``X-Shopify-Event-Id`` as its id
(shared by every delivery of one merchant action, so the gateway's dedupe drops retries and
duplicates), falling back to ``X-Shopify-Webhook-Id`` and, failing both, a digest of topic and
body (an identical body is the same event).

Ids match what the connector's reads return: global ids for customers, orders and refunds, the
unified ``shopify:<id>`` for locations (see :mod:`connectors.shopify.ids`).

``inventory_levels/update`` names the inventory item, not the SKU. The parser asks
``resolve_sku`` (the connector passes its item-id -> SKU cache, filled whenever it reads
inventory); an unknown item yields an :class:`InventoryChanged` with ``level=None`` and the
item and location references, for reconciliation. ``updated_at`` in the body is the level's
timestamp, which is what lets the store ignore an older update arriving after a newer one.

``locations/update`` bodies lack pickup, coordinates and online fulfilment; the parser merges
the body into the location last read (``resolve_location``) or, for a location never read,
sends ``location=None`` so consumers refetch instead of trusting defaults.

Every body is checked against its topic's model (:mod:`connectors.shopify.webhook_payloads`)
before it is mapped: the topic is an unsigned header, so a signed body of one kind re-sent
under another topic (an order as ``customers/redact``) is a parse error, not an erasure.

Topics not listed in :data:`TOPICS` are acknowledged with no events.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from connectors.records import (
    Address,
    Consent,
    CustomerChanged,
    CustomerRecord,
    InventoryChanged,
    InventoryLevel,
    LineItem,
    LocationChanged,
    LocationRecord,
    Money,
    OrderChanged,
    OrderRecord,
    PrivacyRequest,
    PrivacyRequestKind,
    RefundCreated,
    WebhookEvent,
)
from connectors.shopify.ids import gid, location_id
from connectors.shopify.mapping import channel, consent, paid, parse_datetime
from connectors.shopify.source import SOURCE
from connectors.shopify.webhook_payloads import PAYLOADS
from connectors.webhooks import (
    DeliveryId,
    WebhookParseError,
    describe_errors,
    hmac_sha256,
    same_signature,
)

SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
EVENT_ID_HEADER = "x-shopify-event-id"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"
TRIGGERED_AT_HEADER = "x-shopify-triggered-at"
SHOP_DOMAIN_HEADER = "x-shopify-shop-domain"
API_VERSION_HEADER = "x-shopify-api-version"

Json = Mapping[str, Any]
SkuResolver = Callable[[str], str | None]
LocationResolver = Callable[[str], LocationRecord | None]


class ShopifyWebhooks:
    """The ``WebhookEndpoint`` for ``/webhooks/shopify``."""

    source = SOURCE
    delivery_headers = frozenset(
        {
            SIGNATURE_HEADER,
            TOPIC_HEADER,
            EVENT_ID_HEADER,
            WEBHOOK_ID_HEADER,
            TRIGGERED_AT_HEADER,
            SHOP_DOMAIN_HEADER,
            API_VERSION_HEADER,
        }
    )

    def __init__(
        self,
        secret: str | bytes,
        *,
        resolve_sku: SkuResolver | None = None,
        resolve_location: LocationResolver | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self._key = secret.encode() if isinstance(secret, str) else secret
        self._resolve_sku = resolve_sku
        self._resolve_location = resolve_location

    def verify(self, *, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        presented = headers.get(SIGNATURE_HEADER)
        if not presented:
            return False
        try:
            signature = base64.b64decode(presented.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return same_signature(hmac_sha256(self._key, body), signature)

    def identify(self, *, headers: Mapping[str, str], body: bytes) -> DeliveryId:
        topic = _topic(headers)
        return DeliveryId(topic=topic or None, event_id=_event_id(headers, topic, body))

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        topic = _topic(headers)
        if not topic:
            raise WebhookParseError("missing X-Shopify-Topic")
        handler = TOPICS.get(topic)
        if handler is None:
            return []
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookParseError(f"{topic}: body is not JSON") from exc
        if not isinstance(payload, dict):
            raise WebhookParseError(f"{topic}: body is not a JSON object")
        try:
            PAYLOADS[topic].model_validate(payload)
        except ValidationError as exc:
            raise WebhookParseError(f"{topic}: {describe_errors(exc)}") from None
        meta = _Meta(
            event_id=_event_id(headers, topic, body),
            topic=topic,
            triggered_at=parse_datetime(headers.get(TRIGGERED_AT_HEADER)),
        )
        try:
            return handler(self, meta, payload)
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise WebhookParseError(f"{topic}: unexpected body ({type(exc).__name__})") from exc

    # --- topics ------------------------------------------------------------------------------

    def _customer(self, meta: _Meta, body: Json) -> list[WebhookEvent]:
        record = rest_customer(body)
        return [
            CustomerChanged(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at or record.updated_at,
                customer_id=record.id,
                customer=record,
            )
        ]

    def _customer_deleted(self, meta: _Meta, body: Json) -> list[WebhookEvent]:
        return [
            CustomerChanged(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at,
                customer_id=_gid("Customer", body),
                deleted=True,
            )
        ]

    def _order(self, meta: _Meta, body: Json) -> list[WebhookEvent]:
        record = rest_order(body)
        return [
            OrderChanged(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at or record.updated_at,
                order_id=record.id,
                customer_id=record.customer_id,
                order=record,
            )
        ]

    def _refund(self, meta: _Meta, body: Json) -> list[WebhookEvent]:
        return [
            RefundCreated(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at or parse_datetime(body.get("created_at")),
                order_id=gid("Order", body["order_id"]),
                refund_id=_gid("Refund", body),
                amount=refund_amount(body),
            )
        ]

    def _inventory(self, meta: _Meta, body: Json) -> list[WebhookEvent]:
        item = gid("InventoryItem", body["inventory_item_id"])
        location = location_id(body["location_id"])
        updated = parse_datetime(body.get("updated_at")) or meta.triggered_at
        if updated is None:
            raise WebhookParseError(f"{meta.topic}: no updated_at to order the level by")
        sku = self._resolve_sku(item) if self._resolve_sku is not None else None
        available = body.get("available")
        level = None
        if sku and available is not None:
            level = InventoryLevel(
                source=SOURCE,
                sku=sku,
                location_id=location,
                quantities={"available": int(available)},
                updated_at=updated,
            )
        return [
            InventoryChanged(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at or updated,
                level=level,
                item_ref=item,
                location_ref=location,
            )
        ]

    def _location(self, meta: _Meta, body: Json) -> list[WebhookEvent]:
        unified = location_id(body["id"])
        known = self._resolve_location(unified) if self._resolve_location is not None else None
        record = None
        if known is not None:
            record = dataclasses.replace(
                known,
                name=str(body.get("name") or known.name),
                address=Address(
                    line1=body.get("address1") or None,
                    line2=body.get("address2") or None,
                    city=body.get("city") or None,
                    region=body.get("province_code") or None,
                    postal_code=body.get("zip") or None,
                    country_code=body.get("country_code") or None,
                ),
                active=bool(body.get("active", known.active)),
            )
        return [
            LocationChanged(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at or parse_datetime(body.get("updated_at")),
                location_id=unified,
                location=record,
            )
        ]


@dataclasses.dataclass(frozen=True, slots=True)
class _Meta:
    event_id: str
    topic: str
    triggered_at: datetime | None


Handler = Callable[["ShopifyWebhooks", _Meta, Json], list[WebhookEvent]]


def _topic(headers: Mapping[str, str]) -> str:
    return (headers.get(TOPIC_HEADER) or "").strip().lower()


def _event_id(headers: Mapping[str, str], topic: str, body: bytes) -> str:
    for header in (EVENT_ID_HEADER, WEBHOOK_ID_HEADER):
        value = (headers.get(header) or "").strip()
        if value:
            return value
    return "sha256:" + hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()


def _gid(kind: str, body: Json) -> str:
    api_id = body.get("admin_graphql_api_id")
    if isinstance(api_id, str) and api_id.startswith("gid://"):
        return api_id
    return gid(kind, body["id"])


# --- REST-shaped bodies -> records --------------------------------------------------------


def rest_address(node: Json) -> Address:
    return Address(
        line1=node.get("address1") or None,
        line2=node.get("address2") or None,
        city=node.get("city") or None,
        region=node.get("province_code") or None,
        postal_code=node.get("zip") or None,
        country_code=node.get("country_code") or None,
    )


def _rest_consent(node: object) -> Consent | None:
    if not isinstance(node, Mapping) or not node.get("state"):
        return None
    return consent(
        node.get("state"),
        updated_at=node.get("consent_updated_at"),
        method=node.get("opt_in_level"),
    )


def rest_customer(body: Json) -> CustomerRecord:
    address = body.get("default_address")
    return CustomerRecord(
        source=SOURCE,
        id=_gid("Customer", body),
        first_name=body.get("first_name") or None,
        last_name=body.get("last_name") or None,
        emails=(body["email"],) if body.get("email") else (),
        phones=(body["phone"],) if body.get("phone") else (),
        addresses=(rest_address(address),) if isinstance(address, Mapping) else (),
        email_consent=_rest_consent(body.get("email_marketing_consent")),
        sms_consent=_rest_consent(body.get("sms_marketing_consent")),
        created_at=parse_datetime(body.get("created_at")),
        updated_at=parse_datetime(body.get("updated_at")),
        note=body.get("note") or None,
    )


def _money(amount: object, currency: str) -> Money:
    return Money(Decimal(str(amount if amount not in (None, "") else "0")), currency.upper())


def rest_order(body: Json) -> OrderRecord:
    currency = str(body.get("currency") or body.get("presentment_currency") or "USD")
    created = parse_datetime(body.get("created_at"))
    if created is None:
        raise ValueError("order without created_at")
    customer = body.get("customer")
    customer_id = _gid("Customer", customer) if isinstance(customer, Mapping) else None
    refunded = Decimal(0)
    for refund in body.get("refunds") or ():
        refunded += _refund_total(refund)
    items = []
    for item in body.get("line_items") or ():
        quantity = int(item.get("quantity") or 0)
        current = item.get("current_quantity")
        items.append(
            LineItem(
                sku=item.get("sku") or None,
                title=str(item.get("name") or item.get("title") or ""),
                quantity=quantity,
                unit_price=_money(item.get("price"), currency),
                refunded_quantity=max(0, quantity - int(current)) if current is not None else 0,
            )
        )
    source_name = body.get("source_name")
    store = body.get("location_id")
    return OrderRecord(
        source=SOURCE,
        id=_gid("Order", body),
        channel=channel(source_name),
        created_at=created,
        total=_money(body.get("total_price"), currency),
        customer_id=customer_id,
        email=body.get("email") or body.get("contact_email") or None,
        phone=body.get("phone") or None,
        name=body.get("name") or None,
        codes=tuple(
            str(d["code"])
            for d in body.get("discount_codes") or ()
            if isinstance(d, Mapping) and d.get("code")
        ),
        location_id=location_id(store) if store else None,
        source_name=str(source_name) if source_name else None,
        refunded=Money(refunded, currency.upper()) if refunded > 0 else None,
        line_items=tuple(items),
        updated_at=parse_datetime(body.get("updated_at")),
        cancelled=body.get("cancelled_at") is not None,
        paid=paid(body.get("financial_status")),
    )


def _refund_total(refund: Json) -> Decimal:
    """Money returned by one refund: its successful refund transactions, or (when the body has
    none, e.g. a refund still being processed) its line items' subtotal and tax."""
    transactions = [
        t
        for t in refund.get("transactions") or ()
        if t.get("kind") == "refund" and t.get("status") in (None, "success")
    ]
    if transactions:
        return sum((Decimal(str(t.get("amount") or "0")) for t in transactions), Decimal(0))
    total = Decimal(0)
    for line in refund.get("refund_line_items") or ():
        total += Decimal(str(line.get("subtotal") or "0")) + Decimal(
            str(line.get("total_tax") or "0")
        )
    return total


def refund_amount(body: Json) -> Money | None:
    currency = None
    for transaction in body.get("transactions") or ():
        currency = currency or transaction.get("currency")
    total = _refund_total(body)
    if currency is None or total <= 0:
        return None
    return Money(total, str(currency).upper())


def _privacy(kind: PrivacyRequestKind) -> Handler:
    """The mandatory privacy topics: the customer (absent for ``shop/redact``) to report on or
    erase."""

    def parse(_: ShopifyWebhooks, meta: _Meta, body: Json) -> list[WebhookEvent]:
        customer = body.get("customer") or {}
        customer_id = customer.get("id")
        return [
            PrivacyRequest(
                source=SOURCE,
                event_id=meta.event_id,
                occurred_at=meta.triggered_at,
                kind=kind,
                customer_id=gid("Customer", customer_id) if customer_id else None,
                email=customer.get("email") or None,
                phone=customer.get("phone") or None,
            )
        ]

    return parse


TOPICS: dict[str, Handler] = {
    "customers/create": ShopifyWebhooks._customer,
    "customers/update": ShopifyWebhooks._customer,
    "customers/delete": ShopifyWebhooks._customer_deleted,
    "orders/create": ShopifyWebhooks._order,
    "orders/updated": ShopifyWebhooks._order,
    "refunds/create": ShopifyWebhooks._refund,
    "inventory_levels/update": ShopifyWebhooks._inventory,
    "locations/update": ShopifyWebhooks._location,
    "customers/data_request": _privacy(PrivacyRequestKind.DATA_REQUEST),
    "customers/redact": _privacy(PrivacyRequestKind.REDACT_CUSTOMER),
    "shop/redact": _privacy(PrivacyRequestKind.REDACT_SHOP),
}
