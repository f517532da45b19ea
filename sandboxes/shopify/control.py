"""The Shopify sandbox's control routes (under ``/_sandbox/``): change the shop, get webhooks.

Each change is made to the sandbox's copy of the world and then delivered as the signed
webhook(s) Shopify would send, awaited before the control call answers; the answer lists the
deliveries with their HTTP status. A test or a demo can therefore act ("an in-store sale at
Back Bay") and then look at the gateway, without polling.

Routes (JSON bodies; ids may be numeric or global ids, locations also a code such as ``BOS``):

- ``POST /_sandbox/sales``: ``{"location", "lines": [{"sku", "quantity"}], "customer_id"?,
  "email"?, "source_name"?: "pos"|"web", "discount_codes"?: [str], "stock_webhooks"?: true}``
  -> ``orders/create`` +
  ``inventory_levels/update`` (not sent with ``"stock_webhooks": false``: lost deliveries).
- ``POST /_sandbox/inventory``: ``{"sku", "location", "delta"|"available", "updated_at"?,
  "duplicates"?, "out_of_order"?, "then"?, "webhook"?}`` -> ``inventory_levels/update`` (see
  :mod:`sandboxes.base.stock_faults` for the delivery faults).
- ``POST /_sandbox/customers``, ``PATCH /_sandbox/customers/{id}``,
  ``DELETE /_sandbox/customers/{id}`` -> ``customers/create|update|delete``.
- ``POST /_sandbox/refunds``: ``{"order_id", "lines"?: [{"sku", "quantity"}], "note"?}``
  -> ``refunds/create`` + ``orders/updated``.
- ``PATCH /_sandbox/locations/{id}``: ``{"name"?, "active"?}`` -> ``locations/update``.
- ``POST /_sandbox/privacy``: ``{"topic", "customer_id"?}`` -> the mandatory privacy topics.
- ``GET /_sandbox/throttle``, ``POST /_sandbox/throttle``: the cost bucket and its counters;
  set ``maximumAvailable``, ``restoreRate``, ``currentlyAvailable``, ``throttledStatus``.
- ``GET /_sandbox/webhooks``: deliveries so far; ``POST /_sandbox/webhooks/redeliver``:
  ``{"index"?: -1, "times"?: 1}`` sends a past delivery again, byte for byte (same ids), as
  Shopify's retries do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from connectors.records import Channel, Consent, ConsentState
from sandboxes.base.control import add_control_routes
from sandboxes.base.stock_faults import stock_delivery
from sandboxes.base.webhooks import SHOPIFY_SIGNATURE_HEADER, Delivery, WebhookSender
from sandboxes.demo import (
    DeliveryMethod,
    PosSystem,
    ShopifyCustomer,
    ShopifyKind,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    ShopifyRefundLine,
)
from sandboxes.shopify import payloads
from sandboxes.shopify.bucket import Bucket
from sandboxes.shopify.state import SandboxState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TAX_RATE = Decimal("0.0625")
CENT = Decimal("0.01")


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Control:
    """Holds what the routes act on. One per sandbox app."""

    def __init__(
        self,
        state: SandboxState,
        bucket: Bucket,
        sender: WebhookSender,
        *,
        shop_domain: str,
        api_version: str,
        shop_id: int = 548380009,
    ) -> None:
        self.state = state
        self.bucket = bucket
        self.sender = sender
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.shop_id = shop_id

    # --- delivery --------------------------------------------------------------------------

    async def deliver(self, topic: str, body: dict[str, Any], at: datetime) -> Delivery:
        """Sign and send one webhook like Shopify: one event id per merchant action, one
        webhook id per delivery (a redelivery keeps both, as Shopify's retries do)."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": payloads.rest_time(at) or "",
        }
        return await self.sender.send(None, raw, headers)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/sales", self._wrap(self.sale)),
            web.post("/inventory", self._wrap(self.inventory)),
            web.post("/customers", self._wrap(self.create_customer)),
            web.patch("/customers/{id}", self._wrap(self.update_customer)),
            web.delete("/customers/{id}", self._wrap(self.delete_customer)),
            web.post("/refunds", self._wrap(self.refund)),
            web.patch("/locations/{id}", self._wrap(self.update_location)),
            web.post("/privacy", self._wrap(self.privacy)),
            web.get("/throttle", self._wrap(self.get_throttle)),
            web.post("/throttle", self._wrap(self.set_throttle)),
            web.get("/webhooks", self._wrap(self.webhooks)),
            web.post("/webhooks/redeliver", self._wrap(self.redeliver)),
        ]

    def _wrap(self, action: Callable[[web.Request, dict[str, Any]], Awaitable[Any]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            body: dict[str, Any] = {}
            if request.can_read_body:
                try:
                    data = await request.json()
                except json.JSONDecodeError:
                    return web.json_response({"error": "body must be JSON"}, status=400)
                if not isinstance(data, dict):
                    return web.json_response({"error": "body must be a JSON object"}, status=400)
                body = data
            try:
                result = await action(request, body)
            except ControlError as exc:
                return web.json_response({"error": str(exc)}, status=exc.status)
            return web.json_response(result)

        return handler

    # --- records ---------------------------------------------------------------------------

    def _customer(self, ref: object) -> ShopifyCustomer:
        number = _number(ref, "customer id")
        customer = self.state.customer(number)
        if customer is None:
            raise ControlError(f"no customer {ref}", 404)
        return customer

    def _location(self, ref: object) -> Any:
        location = self.state.location_by_ref(str(ref)) if ref is not None else None
        if location is None:
            raise ControlError(f"no location {ref}", 404)
        return location

    async def sale(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        """A sale: ``pos`` at a Shopify POS store takes units off the shelf (available and
        on hand); ``web`` commits them at the fulfilling location (the warehouse by
        default)."""
        world = self.state.world
        source_name = str(body.get("source_name") or "pos")
        if source_name not in ("pos", "web"):
            raise ControlError("source_name must be pos or web")
        default = "WHS" if source_name == "web" else None
        location = self._location(body.get("location") or default)
        if source_name == "pos" and location.pos is not PosSystem.SHOPIFY_POS:
            raise ControlError(f"{location.code} does not run Shopify POS")
        lines_in = body.get("lines")
        if not isinstance(lines_in, list) or not lines_in:
            raise ControlError("lines must be a non-empty list")
        customer = self._customer(body["customer_id"]) if body.get("customer_id") else None
        discount_codes = body.get("discount_codes") or []
        if not isinstance(discount_codes, list) or not all(
            isinstance(c, str) and c for c in discount_codes
        ):
            raise ControlError("discount_codes must be a list of codes")
        now = self.state.now()
        lines: list[ShopifyLineItem] = []
        for line in lines_in:
            variant = self.state.variant_by_sku(str(line.get("sku")))
            quantity = line.get("quantity", 1)
            if variant is None:
                raise ControlError(f"unknown sku {line.get('sku')}", 404)
            if not isinstance(quantity, int) or quantity < 1:
                raise ControlError("quantity must be a positive integer")
            lines.append(
                ShopifyLineItem(
                    id=world.new_shopify_id(ShopifyKind.LINE_ITEM, now),
                    sku=variant.sku,
                    title=self.state.product_title(variant),
                    variant_title=variant.title,
                    quantity=quantity,
                    price=variant.price,
                    product_id=world.products_by_code[variant.product_code].shopify_product_id,
                    variant_id=variant.shopify_variant_id,
                )
            )
        moved = []
        try:
            for item in lines:
                moved.append(
                    world.adjust_stock(
                        item.sku,
                        location.code,
                        -item.quantity if source_name == "pos" else item.quantity,
                        now,
                        field_name="" if source_name == "pos" else "committed",
                    )
                )
        except (KeyError, ValueError) as exc:
            for item, level in zip(lines, moved, strict=False):  # undo what was moved
                world.adjust_stock(
                    item.sku,
                    location.code,
                    item.quantity if source_name == "pos" else -item.quantity,
                    level.updated_at,
                    field_name="" if source_name == "pos" else "committed",
                )
            raise ControlError(f"not enough stock: {exc}", 409) from None
        order_id, name = world.new_shopify_order_ref(now)
        subtotal = sum((i.price * i.quantity for i in lines), Decimal(0))
        tax = (subtotal * TAX_RATE).quantize(CENT)
        order = ShopifyOrder(
            id=order_id,
            name=name,
            number=int(name.lstrip("#")),
            person_id=customer.person_id if customer else None,
            customer_id=customer.id if customer else None,
            email=(customer.email if customer else None) or body.get("email"),
            phone=customer.phone if customer else None,
            source_name=source_name,
            channel=Channel.IN_STORE if source_name == "pos" else Channel.ONLINE,
            delivery_method=(
                DeliveryMethod.RETAIL if source_name == "pos" else DeliveryMethod.SHIPPING
            ),
            location_code=location.code,
            location_id=location.shopify_location_id,
            created_at=now,
            updated_at=now,
            currency=world.currency,
            lines=lines,
            subtotal=subtotal,
            shipping=Decimal(0),
            tax=tax,
            total=subtotal + tax,
            tax_rate=TAX_RATE,
            shipping_address=None,
            refunds=[],
            discount_codes=list(discount_codes),
        )
        world.add_shopify_order(order)
        deliveries = [await self.deliver("orders/create", payloads.order(self.state, order), now)]
        for level in moved if body.get("stock_webhooks", True) else ():
            deliveries.append(
                await self.deliver(
                    "inventory_levels/update", payloads.inventory_level(self.state, level), now
                )
            )
        return {
            "order": {
                "id": f"gid://shopify/Order/{order.id}",
                "name": order.name,
                "total": str(order.total),
                "location_id": f"shopify:{location.shopify_location_id}",
            },
            "deliveries": [_delivery(d) for d in deliveries],
        }

    async def inventory(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        """Change one level and send ``inventory_levels/update``, with the delivery faults
        of :mod:`sandboxes.base.stock_faults` (duplicates, out of order, no webhook)."""
        location = self._location(body.get("location"))
        sku = str(body.get("sku"))
        level = self.state.stock(sku, location)
        if level is None:
            raise ControlError(f"no stock row for {sku} at {location.code}", 404)
        try:
            options = stock_delivery(body)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        if "available" in body:
            target = body["available"]
            if not isinstance(target, int) or target < 0:
                raise ControlError("available must be a non-negative integer")
            delta = target - level.available
        else:
            given = body.get("delta")
            if not isinstance(given, int):
                raise ControlError("give delta (integer) or available")
            delta = given
        at = _when(body.get("updated_at")) or self.state.now()
        changes: list[tuple[dict[str, Any], datetime]] = []
        try:
            self.state.world.adjust_stock(sku, location.code, delta, at)
            changes.append((payloads.inventory_level(self.state, level), at))
            if options.out_of_order:
                second = options.second_delta(level.available, "available")
                later = max(self.state.now(), at + timedelta(seconds=1))
                self.state.world.adjust_stock(sku, location.code, second, later)
                changes.append((payloads.inventory_level(self.state, level), later))
        except ValueError as exc:
            raise ControlError(str(exc), 409) from None
        deliveries: list[Delivery] = []
        if options.webhook:
            for payload, when in reversed(changes) if options.out_of_order else changes:
                delivery = await self.deliver("inventory_levels/update", payload, when)
                deliveries.append(delivery)
                for _ in range(options.duplicates):
                    deliveries.append(await self._resend(delivery))
        return {
            "level": {
                "sku": sku,
                "location_id": f"shopify:{location.shopify_location_id}",
                "quantities": level.quantities(),
                "updated_at": payloads.rest_time(level.updated_at),
            },
            "deliveries": [_delivery(d) for d in deliveries],
        }

    async def create_customer(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        world = self.state.world
        now = self.state.now()
        email = _text(body.get("email"))
        phone = _text(body.get("phone"))
        self._unique(email, phone, None)
        customer = ShopifyCustomer(
            id=world.new_shopify_id(ShopifyKind.CUSTOMER, now),
            person_id="sandbox",
            first_name=str(body.get("first_name") or ""),
            last_name=str(body.get("last_name") or ""),
            email=email.lower() if email else None,
            phone=phone,
            email_consent=_consent(body.get("email_marketing")),
            sms_consent=_consent(body.get("sms_marketing")),
            addresses=[],
            created_at=now,
            updated_at=now,
            note=_text(body.get("note")),
        )
        world.add_shopify_customer(customer)
        delivery = await self.deliver(
            "customers/create", payloads.customer(self.state, customer), now
        )
        return {
            "customer": {"id": f"gid://shopify/Customer/{customer.id}"},
            "deliveries": [_delivery(delivery)],
        }

    async def update_customer(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(request.match_info["id"])
        now = self.state.now()
        if "email" in body:
            email = _text(body["email"])
            self._unique(email, None, customer.id)
            customer.email = email.lower() if email else None
        if "phone" in body:
            phone = _text(body["phone"])
            self._unique(None, phone, customer.id)
            customer.phone = phone
        for key in ("first_name", "last_name"):
            if key in body:
                setattr(customer, key, str(body[key] or ""))
        if "note" in body:
            customer.note = _text(body["note"])
        if "email_marketing" in body:
            customer.email_consent = _consent(body["email_marketing"], now)
        if "sms_marketing" in body:
            customer.sms_consent = _consent(body["sms_marketing"], now)
        customer.updated_at = now
        delivery = await self.deliver(
            "customers/update", payloads.customer(self.state, customer), now
        )
        return {
            "customer": {"id": f"gid://shopify/Customer/{customer.id}"},
            "deliveries": [_delivery(delivery)],
        }

    async def delete_customer(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(request.match_info["id"])
        now = self.state.now()
        self.state.deleted_customers.add(customer.id)
        delivery = await self.deliver(
            "customers/delete", payloads.customer_deleted(customer.id), now
        )
        return {"deliveries": [_delivery(delivery)]}

    async def refund(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        world = self.state.world
        order = self.state.order(_number(body.get("order_id"), "order_id"))
        if order is None:
            raise ControlError(f"no order {body.get('order_id')}", 404)
        now = self.state.now()
        already: dict[int, int] = {}
        for previous in order.refunds:
            for line in previous.lines:
                already[line.line_item_id] = already.get(line.line_item_id, 0) + line.quantity
        wanted = body.get("lines")
        picks: list[tuple[ShopifyLineItem, int]] = []
        if wanted is None:
            picks = [(i, i.quantity - already.get(i.id, 0)) for i in order.lines]
        else:
            by_sku = {i.sku: i for i in order.lines}
            for line in wanted:
                item = by_sku.get(str(line.get("sku")))
                if item is None:
                    raise ControlError(f"order has no line with sku {line.get('sku')}")
                picks.append((item, int(line.get("quantity", 1))))
        refund_lines = []
        for item, quantity in picks:
            if quantity <= 0:
                continue
            if quantity > item.quantity - already.get(item.id, 0):
                raise ControlError(f"cannot refund {quantity} of {item.sku}", 409)
            subtotal = item.price * quantity
            refund_lines.append(
                ShopifyRefundLine(
                    id=world.new_shopify_id(ShopifyKind.REFUND_LINE_ITEM, now),
                    line_item_id=item.id,
                    sku=item.sku,
                    quantity=quantity,
                    subtotal=subtotal,
                    tax=(subtotal * order.tax_rate).quantize(CENT),
                )
            )
        if not refund_lines:
            raise ControlError("nothing left to refund", 409)
        refund = ShopifyRefund(
            id=world.new_shopify_id(ShopifyKind.REFUND, now),
            created_at=now,
            note=_text(body.get("note")),
            lines=refund_lines,
            shipping=Decimal(0),
            amount=sum((r.subtotal + r.tax for r in refund_lines), Decimal(0)),
            restock=bool(body.get("restock", False)),
        )
        order.refunds.append(refund)
        order.updated_at = now
        deliveries = [
            await self.deliver("refunds/create", payloads.refund(order, refund), now),
            await self.deliver("orders/updated", payloads.order(self.state, order), now),
        ]
        return {
            "refund": {"id": f"gid://shopify/Refund/{refund.id}", "amount": str(refund.amount)},
            "deliveries": [
                _delivery(deliveries[0]),
                _delivery(deliveries[1]),
            ],
        }

    async def update_location(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        location = self._location(request.match_info["id"])
        now = self.state.now()
        if "name" in body:
            self.state.location_names[location.shopify_location_id] = str(body["name"])
        if "active" in body:
            if body["active"]:
                self.state.inactive_locations.discard(location.shopify_location_id)
            else:
                self.state.inactive_locations.add(location.shopify_location_id)
        delivery = await self.deliver(
            "locations/update", payloads.location(self.state, location, now), now
        )
        return {"deliveries": [_delivery(delivery)]}

    async def privacy(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        topic = str(body.get("topic"))
        if topic not in ("customers/data_request", "customers/redact", "shop/redact"):
            raise ControlError(
                "topic must be customers/data_request, customers/redact or shop/redact"
            )
        customer = None
        if topic != "shop/redact":
            customer = self.state.world.shopify_customers_by_id.get(
                _number(body.get("customer_id"), "customer_id")
            )
            if customer is None:
                raise ControlError(f"no customer {body.get('customer_id')}", 404)
        payload = payloads.privacy(self.shop_domain, topic, customer, self.shop_id)
        if customer is not None:
            order_ids = [o.id for o in self.state.orders_of(customer.id)]
            key = "orders_requested" if topic == "customers/data_request" else "orders_to_redact"
            payload[key] = order_ids
        delivery = await self.deliver(topic, payload, self.state.now())
        return {"deliveries": [_delivery(delivery)]}

    async def get_throttle(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        return self._throttle_state()

    async def set_throttle(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        try:
            self.bucket.configure(body)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        return self._throttle_state()

    def _throttle_state(self) -> dict[str, Any]:
        return {
            "throttleStatus": self.bucket.status(),
            "throttledStatus": self.bucket.throttled_status,
            "counts": dict(self.bucket.counts),
        }

    async def webhooks(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"deliveries": [_delivery(d) for d in self.sender.deliveries]}

    async def redeliver(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        deliveries = list(self.sender.deliveries)
        index = body.get("index", -1)
        times = body.get("times", 1)
        if not isinstance(index, int) or not isinstance(times, int) or times < 1:
            raise ControlError("index must be an integer and times a positive integer")
        try:
            original = deliveries[index]
        except IndexError:
            raise ControlError("no such delivery", 404) from None
        sent = []
        for _ in range(times):
            sent.append(_delivery(await self._resend(original)))
        return {"deliveries": sent}

    async def _resend(self, original: Delivery) -> Delivery:
        """Send a past delivery again, byte for byte with the same ids (Shopify's retry)."""
        headers = {
            k: v
            for k, v in original.headers.items()
            if k not in (SHOPIFY_SIGNATURE_HEADER, "Content-Type")
        }
        return await self.sender.send(original.url, original.body, headers)

    def _unique(self, email: str | None, phone: str | None, own_id: int | None) -> None:
        """Shopify refuses an email or phone another customer already has."""
        for other in self.state.customers():
            if other.id == own_id:
                continue
            if email and other.email and other.email.lower() == email.lower():
                raise ControlError("Email has already been taken", 422)
            if phone and other.phone == phone:
                raise ControlError("Phone has already been taken", 422)


def install(app: web.Application, control: Control) -> None:
    add_control_routes(app, control.routes())


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "topic": delivery.headers.get("X-Shopify-Topic"),
        "event_id": delivery.headers.get("X-Shopify-Event-Id"),
        "webhook_id": delivery.headers.get("X-Shopify-Webhook-Id"),
        "url": delivery.url,
        "status": delivery.status,
        "error": delivery.error,
    }


def _number(value: object, what: str) -> int:
    text = str(value if value is not None else "").strip()
    digits = text.rsplit("/", 1)[-1].split("?", 1)[0]
    if not digits.isdigit():
        raise ControlError(f"{what} must be a Shopify id, got {value!r}")
    return int(digits)


def _text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


def _when(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ControlError(f"updated_at is not an ISO timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise ControlError("updated_at needs a time zone offset")
    return parsed


def _consent(value: object, at: datetime | None = None) -> Consent:
    states = {
        "subscribed": ConsentState.SUBSCRIBED,
        "unsubscribed": ConsentState.UNSUBSCRIBED,
        "not_subscribed": ConsentState.NEVER_SUBSCRIBED,
        "pending": ConsentState.PENDING,
    }
    if value is None:
        return Consent(state=ConsentState.NEVER_SUBSCRIBED)
    state = states.get(str(value).lower())
    if state is None:
        raise ControlError(f"marketing state must be one of {', '.join(states)}")
    return Consent(
        state=state,
        can_receive=state is ConsentState.SUBSCRIBED,
        updated_at=at,
        method="SINGLE_OPT_IN" if state is ConsentState.SUBSCRIBED else None,
    )


__all__ = ["Control", "ControlError", "install"]
