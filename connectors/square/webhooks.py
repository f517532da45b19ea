"""Square webhooks: verify ``x-square-hmacsha256-signature``, then parse to domain events.

Square signs the notification URL *followed by* the raw body: base64(HMAC-SHA256(signature
key, url + body)). The URL is part of the signature, so it must be exactly the one the
subscription was registered with: a ``notification_url`` given here (the connector passes
``OMNIGATE_SQUARE_WEBHOOK_URL``) wins over the URL the gateway saw, which behind a proxy
differs from it.

Events (envelope ``{merchant_id, type, event_id, created_at, data{type, id, object}}``):

- ``customer.created|updated|deleted`` -> :class:`CustomerChanged` (with the customer when sent)
- ``order.created|updated`` carry a summary only -> :class:`OrderChanged` with the order id;
  fetching the order (``get_orders``) is the consumer's job. POS sales send no
  ``order.created``, only ``order.updated``.
- ``refund.created|updated`` -> :class:`RefundCreated` (a failed or rejected refund becomes an
  :class:`OrderChanged` instead, so the order is re-read rather than money clawed back)
- ``inventory.count.updated`` -> one :class:`InventoryChanged` per ``IN_STOCK`` count, its
  ``calculated_at`` as the level's timestamp so an older count never overwrites a newer one.
  The SKU comes from the catalog cache; unknown variations give ``level=None`` and
  ``item_ref`` (the variation id) for later resolution.
- ``location.created|updated`` -> :class:`LocationChanged`.

Each envelope and its ``data`` are checked against the event type's model
(:mod:`connectors.square.webhook_payloads`) before mapping, so a body the mapping could not
use is a parse error naming the field (the gateway dead-letters it).

One delivery can carry several counts, and the gateway dedupes per event id, so each count
gets its own id: ``<event_id>:<variation id>:<location id>``. A redelivery of the same
Square event yields the same ids and is dropped as a replay.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from connectors.records import (
    CustomerChanged,
    InventoryChanged,
    LocationChanged,
    OrderChanged,
    RefundCreated,
    WebhookEvent,
)
from connectors.square import mapping
from connectors.square.catalog import CatalogCache
from connectors.square.locations import LocationMap
from connectors.square.source import SOURCE
from connectors.square.webhook_payloads import DATA, Envelope
from connectors.webhooks import (
    DeliveryId,
    WebhookParseError,
    describe_errors,
    hmac_sha256,
    same_signature,
)

log = logging.getLogger("omnigate.connectors.square.webhooks")

SIGNATURE_HEADER = "x-square-hmacsha256-signature"

#: The subscriptions Omnigate reads (docs/connectors/square.md lists them for operators).
EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "order.created",
    "order.updated",
    "refund.created",
    "refund.updated",
    "inventory.count.updated",
    "location.created",
    "location.updated",
)

_FAILED_REFUNDS = frozenset({"REJECTED", "FAILED"})


class SquareWebhooks:
    """The ``WebhookEndpoint`` for ``POST /webhooks/square``.

    ``catalog`` and ``locations`` are the connector's own (shared) cache and map, so parsed
    counts carry SKUs and unified location ids; ``on_location_change`` lets the connector drop
    its cached location list when Square says a location changed.
    """

    source = SOURCE
    delivery_headers = frozenset({SIGNATURE_HEADER})

    def __init__(
        self,
        signature_key: str | bytes,
        notification_url: str | None = None,
        *,
        catalog: CatalogCache | None = None,
        locations: LocationMap | None = None,
        on_location_change: Callable[[], None] | None = None,
    ) -> None:
        if not signature_key:
            raise ValueError("a Square webhook signature key is required")
        self._key = signature_key.encode() if isinstance(signature_key, str) else signature_key
        self.notification_url = notification_url
        self.catalog = catalog if catalog is not None else CatalogCache()
        self.locations = locations if locations is not None else LocationMap()
        self._on_location_change = on_location_change

    # --- verification ------------------------------------------------------------------------

    def verify(self, *, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        presented = headers.get(SIGNATURE_HEADER)
        if not presented:
            return False
        try:
            presented_digest = base64.b64decode(presented.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        signed_url = self.notification_url or url
        expected = hmac_sha256(self._key, signed_url.encode() + body)
        return same_signature(expected, presented_digest)

    # --- parsing -----------------------------------------------------------------------------

    def identify(self, *, headers: Mapping[str, str], body: bytes) -> DeliveryId:
        try:
            envelope = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return DeliveryId(topic=None, event_id=None)
        if not isinstance(envelope, dict):
            return DeliveryId(topic=None, event_id=None)
        event_type, event_id = envelope.get("type"), envelope.get("event_id")
        return DeliveryId(
            topic=event_type if isinstance(event_type, str) and event_type else None,
            event_id=event_id if isinstance(event_id, str) and event_id else None,
        )

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        try:
            envelope = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise WebhookParseError("body is not JSON") from exc
        if not isinstance(envelope, dict):
            raise WebhookParseError("body is not a JSON object")
        try:
            checked = Envelope.model_validate(envelope)
        except ValidationError as exc:
            raise WebhookParseError(f"envelope: {describe_errors(exc)}") from None
        event_type, event_id, data = checked.type, checked.event_id, checked.data
        handler = self._handlers().get(event_type)
        if handler is None:
            log.info("ignoring Square webhook type %s", event_type)
            return []
        try:
            DATA[event_type].model_validate(data)
        except ValidationError as exc:
            raise WebhookParseError(f"{event_type}: {describe_errors(exc)}") from None
        try:
            return handler(event_id, envelope, data)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise WebhookParseError(f"malformed {event_type} payload") from exc

    def _handlers(
        self,
    ) -> dict[str, Callable[[str, dict[str, Any], dict[str, Any]], list[WebhookEvent]]]:
        return {
            "customer.created": self._customer,
            "customer.updated": self._customer,
            "customer.deleted": self._customer,
            "order.created": self._order,
            "order.updated": self._order,
            "refund.created": self._refund,
            "refund.updated": self._refund,
            "inventory.count.updated": self._inventory,
            "location.created": self._location,
            "location.updated": self._location,
        }

    def _customer(
        self, event_id: str, envelope: dict[str, Any], data: dict[str, Any]
    ) -> list[WebhookEvent]:
        obj = data.get("object") or {}
        raw = obj.get("customer")
        deleted = envelope["type"] == "customer.deleted"
        customer_id = data.get("id") or (raw or {}).get("id")
        if not isinstance(customer_id, str) or not customer_id:
            raise ValueError("customer event without an id")
        record = mapping.customer(raw) if isinstance(raw, dict) and raw.get("id") else None
        return [
            CustomerChanged(
                source=SOURCE,
                event_id=event_id,
                occurred_at=mapping.parse_time(envelope.get("created_at")),
                customer_id=customer_id,
                deleted=deleted,
                customer=None if deleted else record,
            )
        ]

    def _order(
        self, event_id: str, envelope: dict[str, Any], data: dict[str, Any]
    ) -> list[WebhookEvent]:
        obj = data.get("object") or {}
        summary = obj.get("order_updated") or obj.get("order_created") or {}
        order_id = summary.get("order_id") or data.get("id")
        if not isinstance(order_id, str) or not order_id:
            raise ValueError("order event without an order id")
        return [
            OrderChanged(
                source=SOURCE,
                event_id=event_id,
                occurred_at=mapping.parse_time(envelope.get("created_at")),
                order_id=order_id,
            )
        ]

    def _refund(
        self, event_id: str, envelope: dict[str, Any], data: dict[str, Any]
    ) -> list[WebhookEvent]:
        refund = (data.get("object") or {}).get("refund") or {}
        refund_id = refund.get("id") or data.get("id")
        order_id = refund.get("order_id")
        occurred_at = mapping.parse_time(envelope.get("created_at"))
        if not isinstance(order_id, str) or not order_id:
            # An unlinked refund (no order): nothing in Omnigate hangs off it.
            return []
        if refund.get("status") in _FAILED_REFUNDS:
            return [
                OrderChanged(
                    source=SOURCE,
                    event_id=event_id,
                    occurred_at=occurred_at,
                    order_id=order_id,
                )
            ]
        return [
            RefundCreated(
                source=SOURCE,
                event_id=event_id,
                occurred_at=occurred_at,
                order_id=order_id,
                refund_id=str(refund_id),
                amount=mapping.money(refund.get("amount_money")),
            )
        ]

    def _inventory(
        self, event_id: str, envelope: dict[str, Any], data: dict[str, Any]
    ) -> list[WebhookEvent]:
        counts = (data.get("object") or {}).get("inventory_counts")
        if not isinstance(counts, list):
            raise ValueError("inventory event without inventory_counts")
        occurred_at = mapping.parse_time(envelope.get("created_at"))
        events: list[WebhookEvent] = []
        for count in counts:
            if not isinstance(count, dict) or count.get("state") != mapping.IN_STOCK:
                continue
            variation_id = count.get("catalog_object_id")
            square_location = count.get("location_id")
            if not isinstance(variation_id, str) or not isinstance(square_location, str):
                continue
            unified_location = self.locations.unified(square_location)
            sku = self.catalog.sku_of(variation_id)
            level = mapping.inventory_level(count, sku, self.locations) if sku is not None else None
            events.append(
                InventoryChanged(
                    source=SOURCE,
                    event_id=f"{event_id}:{variation_id}:{square_location}",
                    occurred_at=occurred_at,
                    level=level,
                    item_ref=None if level is not None else variation_id,
                    location_ref=unified_location,
                )
            )
        return events

    def _location(
        self, event_id: str, envelope: dict[str, Any], data: dict[str, Any]
    ) -> list[WebhookEvent]:
        square_id = envelope.get("location_id") or data.get("id")
        if not isinstance(square_id, str) or not square_id:
            raise ValueError("location event without a location id")
        if self._on_location_change is not None:
            self._on_location_change()
        return [
            LocationChanged(
                source=SOURCE,
                event_id=event_id,
                occurred_at=mapping.parse_time(envelope.get("created_at")),
                location_id=self.locations.unified(square_id),
            )
        ]
