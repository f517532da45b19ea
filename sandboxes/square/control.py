"""Control routes of the Square sandbox (under ``/_sandbox/``): change the world, get webhooks.

Each route changes the sandbox's world the way the real thing would change Square's data,
then delivers the signed webhooks Square would send, *before* answering, so a test (or a
curl in the demo) sees the effect at the gateway as soon as the control call returns:

- ``POST /_sandbox/sale``: an in-store sale at the POS. Records a ``COMPLETED`` order with
  source "Square Point of Sale", takes the units off ``IN_STOCK`` and sends ``order.updated``
  (Square sends no ``order.created`` for POS orders) and ``inventory.count.updated``.
- ``POST /_sandbox/inventory``: a stock count (absolute ``quantity`` or a ``delta``) ->
  ``inventory.count.updated``; ``duplicates``, ``out_of_order`` (with ``then``) and
  ``webhook: false`` as in :mod:`sandboxes.base.stock_faults`.
- ``POST /_sandbox/refund``: a refund, itemized (``lines``) or amount-only, optionally
  restocking -> ``refund.created``, ``order.updated`` (and ``inventory.count.updated``).
- ``POST /_sandbox/customers``, ``POST|DELETE /_sandbox/customers/{id}`` ->
  ``customer.created|updated|deleted``.
- ``POST /_sandbox/locations/{id}`` -> ``location.updated``.
- ``GET /_sandbox/webhooks``, ``POST /_sandbox/webhooks/deliver`` (same bytes, same
  ``event_id``: Square's retry; with ``"deliver": false`` on ``/inventory`` the event is held
  back and this delivers it late, out of order),
  ``POST /_sandbox/webhooks/target`` (where to deliver, and the URL to sign).

Request bodies name Square ids (``location_id``, ``customer_id``, ``catalog_object_id``) or,
for convenience, the demo's codes (``location_code``, ``sku``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from aiohttp import web

from sandboxes.base.stock_faults import stock_delivery
from sandboxes.demo.builder import SQUARE_SOURCE_NAME, tax_rate
from sandboxes.demo.world import (
    CENT,
    DemoLocation,
    DemoVariant,
    SquareCustomer,
    SquareLineItem,
    SquareOrder,
    SquareRefund,
    SquareReturnLine,
)
from sandboxes.square import render
from sandboxes.square.api import SANDBOX
from sandboxes.square.state import SentEvent, SquareSandbox

JSON = dict[str, Any]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def routes() -> list[web.RouteDef]:
    return [
        web.post("/sale", _guard(sale)),
        web.post("/inventory", _guard(set_inventory)),
        web.post("/refund", _guard(refund)),
        web.post("/customers", _guard(create_customer)),
        web.post("/customers/{customer_id}", _guard(update_customer)),
        web.delete("/customers/{customer_id}", _guard(delete_customer)),
        web.post("/locations/{location_id}", _guard(update_location)),
        web.get("/webhooks", _guard(list_webhooks)),
        web.post("/webhooks/deliver", _guard(deliver)),
        web.post("/webhooks/target", _guard(set_target)),
    ]


def _guard(handler: Any) -> Any:
    async def guarded(request: web.Request) -> web.Response:
        try:
            result: web.Response = await handler(request)
        except ControlError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        except (ValueError, TypeError, AttributeError, ArithmeticError) as exc:
            # A malformed control body (a quantity that is not a number, lines that are not
            # objects): say so instead of answering 500.
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        return result

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


async def _json(request: web.Request) -> JSON:
    if not request.body_exists:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def _events(sent: list[SentEvent]) -> list[JSON]:
    return [s.summary() for s in sent]


def _store(sandbox: SquareSandbox, body: Mapping[str, Any]) -> DemoLocation:
    if body.get("location_id"):
        found = sandbox.location(str(body["location_id"]))
    elif body.get("location_code"):
        found = sandbox.world.locations_by_code.get(str(body["location_code"]))
    else:
        stores = sandbox.square_locations()
        found = stores[0] if stores else None
    if found is None or not found.square_location_id:
        raise ControlError(404, "no such Square location")
    return found


def _variant(sandbox: SquareSandbox, line: Mapping[str, Any]) -> DemoVariant:
    world = sandbox.world
    if line.get("catalog_object_id"):
        found = world.variants_by_square_id.get(str(line["catalog_object_id"]))
    else:
        found = world.variants_by_sku.get(str(line.get("sku")))
    if found is None:
        raise ControlError(404, "no such item variation (sku / catalog_object_id)")
    return found


def _count_data(sandbox: SquareSandbox, pairs: list[tuple[DemoVariant, DemoLocation]]) -> JSON:
    counts = []
    for variant, loc in pairs:
        level = sandbox.world.stock_level(variant.sku, loc.code)
        if level is not None and loc.square_location_id:
            counts.append(render.inventory_count(level, variant, loc.square_location_id))
    return {
        "type": "inventory_counts",
        "id": render.derived_id("counts", *(c["catalog_object_id"] for c in counts), length=36),
        "object": {"inventory_counts": counts},
    }


def _order_summary(order: SquareOrder, *, created: bool = False) -> JSON:
    key = "order_created" if created else "order_updated"
    summary: JSON = {
        "order_id": order.id,
        "version": order.version,
        "location_id": order.location_id,
        "state": order.state,
        "created_at": render.timestamp(order.created_at),
    }
    if not created:
        summary["updated_at"] = render.timestamp(order.updated_at)
    return {"type": key, "id": order.id, "object": {key: summary}}


# --- sales and stock --------------------------------------------------------------------------


async def sale(request: web.Request) -> web.Response:
    """An in-store sale at a Square POS."""
    sandbox = request.app[SANDBOX]
    world = sandbox.world
    body = await _json(request)
    store = _store(sandbox, body)
    customer_id = body.get("customer_id")
    customer = world.square_customers_by_id.get(str(customer_id)) if customer_id else None
    if customer_id and customer is None:
        raise ControlError(404, "no such customer")
    raw_lines = body.get("lines") or [{"sku": world.variants[0].sku, "quantity": 1}]
    basket: list[tuple[DemoVariant, int]] = []
    for line in raw_lines:
        quantity = int(line.get("quantity", 1))
        if quantity < 1:
            raise ControlError(400, "quantity must be at least 1")
        basket.append((_variant(sandbox, line), quantity))
    for variant, quantity in basket:
        level = world.stock_level(variant.sku, store.code)
        if level is None or level.available < quantity:
            raise ControlError(409, f"not enough {variant.sku} at {store.code}")
    now = sandbox.now()
    lines = [
        SquareLineItem(
            uid=world.ids.square_uid(),
            sku=variant.sku,
            name=world.products_by_code[variant.product_code].title,
            variation_name=variant.title,
            quantity=quantity,
            base_price=variant.price,
            catalog_object_id=variant.square_variation_id,
        )
        for variant, quantity in basket
    ]
    subtotal = sum((line.base_price * line.quantity for line in lines), Decimal(0))
    rate = tax_rate(store.address.region)
    tax = (subtotal * rate).quantize(CENT)
    assert store.square_location_id is not None
    order = SquareOrder(
        id=world.new_square_order_id(),
        person_id=customer.person_id if customer else None,
        customer_id=customer.id if customer else None,
        location_code=store.code,
        location_id=store.square_location_id,
        source_name=str(body.get("source_name") or SQUARE_SOURCE_NAME),
        state="COMPLETED",
        created_at=now,
        updated_at=now,
        closed_at=now,
        currency=world.currency,
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        tax_rate=rate,
        payment_id=world.ids.square_payment(),
        tender_type=str(body.get("tender_type") or "CARD"),
        version=4,
        refunds=[],
    )
    world.add_square_order(order)
    for variant, quantity in basket:
        world.adjust_stock(variant.sku, store.code, -quantity, now)
    sent: list[SentEvent] = []
    if order.source_name != SQUARE_SOURCE_NAME:
        # Orders created through the API (not the POS app) also announce their creation.
        sent.append(await sandbox.emit("order.created", _order_summary(order, created=True)))
    sent.append(await sandbox.emit("order.updated", _order_summary(order)))
    pairs = [(variant, store) for variant, _ in basket]
    sent.append(await sandbox.emit("inventory.count.updated", _count_data(sandbox, pairs)))
    return web.json_response(
        {"order": render.order(order, world), "events": _events(sent)}, status=201
    )


async def set_inventory(request: web.Request) -> web.Response:
    """A physical count or adjustment of one variation at one store, with the delivery
    faults of :mod:`sandboxes.base.stock_faults` (duplicates, out of order, no webhook)."""
    sandbox = request.app[SANDBOX]
    world = sandbox.world
    body = await _json(request)
    store = _store(sandbox, body)
    variant = _variant(sandbox, body)
    level = world.stock_level(variant.sku, store.code)
    if level is None:
        raise ControlError(404, f"{variant.sku} is not stocked at {store.code}")
    try:
        options = stock_delivery(body)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    if "quantity" in body:
        delta = int(body["quantity"]) - level.available
    elif "delta" in body:
        delta = int(body["delta"])
    else:
        raise ControlError(400, "give quantity (absolute) or delta")
    changes: list[JSON] = []
    try:
        world.adjust_stock(variant.sku, store.code, delta, sandbox.now())
        changes.append(_count_data(sandbox, [(variant, store)]))
        if options.out_of_order:
            second = options.second_delta(level.available, "quantity")
            world.adjust_stock(variant.sku, store.code, second, sandbox.now())
            changes.append(_count_data(sandbox, [(variant, store)]))
    except ValueError as exc:
        raise ControlError(409, str(exc)) from None
    sent: list[SentEvent] = []
    if options.webhook:
        deliver_now = bool(body.get("deliver", True))
        for data in reversed(changes) if options.out_of_order else changes:
            event = await sandbox.emit("inventory.count.updated", data, deliver=deliver_now)
            for _ in range(options.duplicates if deliver_now else 0):
                await sandbox.deliver(event.event_id)
            sent.append(event)
    count = _count_data(sandbox, [(variant, store)])["object"]["inventory_counts"][0]
    return web.json_response({"count": count, "events": _events(sent)})


async def refund(request: web.Request) -> web.Response:
    """A refund of a Square order: itemized (``lines``: sku or uid, quantity) or an amount."""
    sandbox = request.app[SANDBOX]
    world = sandbox.world
    body = await _json(request)
    order = world.square_orders_by_id.get(str(body.get("order_id")))
    if order is None:
        raise ControlError(404, "no such order")
    now = sandbox.now()
    returned: list[SquareReturnLine] = []
    for line in body.get("lines") or []:
        sold = next(
            (
                item
                for item in order.lines
                if item.uid == line.get("uid") or item.sku == line.get("sku")
            ),
            None,
        )
        if sold is None:
            raise ControlError(404, "no such line on the order")
        quantity = int(line.get("quantity", 1))
        already = sum(
            r.quantity
            for past in order.refunds
            for r in past.lines
            if r.source_line_item_uid == sold.uid
        )
        if quantity < 1 or already + quantity > sold.quantity:
            raise ControlError(409, "cannot return more than was sold")
        line_subtotal = sold.base_price * quantity
        returned.append(
            SquareReturnLine(
                uid=world.ids.square_uid(),
                source_line_item_uid=sold.uid,
                sku=sold.sku,
                quantity=quantity,
                subtotal=line_subtotal,
                tax=(line_subtotal * order.tax_rate).quantize(CENT),
            )
        )
    if returned:
        amount = sum((r.subtotal + r.tax for r in returned), Decimal(0))
    elif body.get("amount") is not None:
        amount = Decimal(str(body["amount"])).quantize(CENT)
    else:
        raise ControlError(400, "give lines or an amount")
    if amount <= 0 or order.refunded + amount > order.total:
        raise ControlError(409, "refund exceeds what is left on the order")
    made = SquareRefund(
        id=world.ids.square_refund(order.payment_id),
        created_at=now,
        reason=str(body.get("reason") or "Returned goods"),
        lines=returned,
        amount=amount,
    )
    order.refunds.append(made)
    order.updated_at = now
    order.version += 1
    sent = [
        await sandbox.emit(
            "refund.created",
            {
                "type": "refund",
                "id": made.id,
                "object": {"refund": render.payment_refund(order, made)},
            },
        ),
        await sandbox.emit("order.updated", _order_summary(order)),
    ]
    if returned and body.get("restock", True):
        store = world.locations_by_code[order.location_code]
        pairs = []
        for line in returned:
            world.adjust_stock(line.sku, store.code, line.quantity, now)
            pairs.append((world.variants_by_sku[line.sku], store))
        sent.append(await sandbox.emit("inventory.count.updated", _count_data(sandbox, pairs)))
    return web.json_response(
        {"refund": render.payment_refund(order, made), "events": _events(sent)}, status=201
    )


# --- customers and locations --------------------------------------------------------------------

_CUSTOMER_FIELDS = ("given_name", "family_name", "email_address", "phone_number", "note")


async def create_customer(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    world = sandbox.world
    body = await _json(request)
    now = sandbox.now()
    customer_id = world.new_square_customer_id()
    customer = SquareCustomer(
        id=customer_id,
        person_id=f"sandbox:{customer_id}",
        given_name=body.get("given_name"),
        family_name=body.get("family_name"),
        email_address=body.get("email_address"),
        phone_number=body.get("phone_number"),
        address=None,
        creation_source=str(body.get("creation_source") or "DIRECTORY"),
        created_at=now,
        updated_at=now,
        version=0,
        note=body.get("note"),
        reference_id=body.get("reference_id"),
    )
    world.add_square_customer(customer)
    sent = await sandbox.emit("customer.created", _customer_data(customer))
    return web.json_response(
        {"customer": render.customer(customer), "events": _events([sent])}, status=201
    )


async def update_customer(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    world = sandbox.world
    customer = world.square_customers_by_id.get(request.match_info["customer_id"])
    if customer is None:
        raise ControlError(404, "no such customer")
    body = await _json(request)
    for name in _CUSTOMER_FIELDS:
        if name in body:
            setattr(customer, name, body[name])
    if "email_unsubscribed" in body:
        customer.email_unsubscribed = bool(body["email_unsubscribed"])
    customer.updated_at = sandbox.now()
    customer.version += 1
    sent = await sandbox.emit("customer.updated", _customer_data(customer))
    return web.json_response({"customer": render.customer(customer), "events": _events([sent])})


async def delete_customer(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    world = sandbox.world
    customer = world.square_customers_by_id.pop(request.match_info["customer_id"], None)
    if customer is None:
        raise ControlError(404, "no such customer")
    world.square_customers.remove(customer)
    sent = await sandbox.emit("customer.deleted", _customer_data(customer))
    return web.json_response({"deleted": customer.id, "events": _events([sent])})


def _customer_data(customer: SquareCustomer) -> JSON:
    return {
        "type": "customer",
        "id": customer.id,
        "object": {"customer": render.customer(customer)},
    }


async def update_location(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    loc = sandbox.location(request.match_info["location_id"])
    if loc is None:
        raise ControlError(404, "no such Square location")
    body = await _json(request)
    if "name" in body:
        loc.name = str(body["name"])
    if any(k in body for k in ("line1", "city", "region", "postal_code")):
        loc.address = replace(
            loc.address,
            **{k: str(body[k]) for k in ("line1", "city", "region", "postal_code") if k in body},
        )
    if "latitude" in body:
        loc.latitude = float(body["latitude"])
    if "longitude" in body:
        loc.longitude = float(body["longitude"])
    assert loc.square_location_id is not None
    sent = await sandbox.emit(
        "location.updated",
        {"type": "location", "id": loc.square_location_id},
        location_id=loc.square_location_id,
    )
    return web.json_response({"location": sandbox.location_json(loc), "events": _events([sent])})


# --- webhooks ---------------------------------------------------------------------------------


async def list_webhooks(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    return web.json_response(
        {
            "target": sandbox.sender.url,
            "notification_url": sandbox.notification_url,
            "events": _events(sandbox.events),
        }
    )


async def deliver(request: web.Request) -> web.Response:
    """Deliver an event again (or for the first time, if it was held back)."""
    sandbox = request.app[SANDBOX]
    body = await _json(request)
    sent = await sandbox.deliver(str(body.get("event_id")))
    if sent is None:
        raise ControlError(404, "no such event")
    return web.json_response({"events": _events([sent])})


async def set_target(request: web.Request) -> web.Response:
    """Where webhooks go (``url``) and which URL they are signed with (``notification_url``,
    default: the delivery URL)."""
    sandbox = request.app[SANDBOX]
    body = await _json(request)
    if "url" in body:
        sandbox.sender.url = body["url"] or None
    if "notification_url" in body:
        sandbox.notification_url = body["notification_url"] or None
    return web.json_response(
        {"target": sandbox.sender.url, "notification_url": sandbox.notification_url}
    )
