"""The Square sandbox's state: its own copy of the demo world, a clock, cursors and webhooks.

The sandbox owns a private copy of the world's Square records so its control API can record
sales, stock counts and customers without touching the world other sandboxes serve (in
reality, too, a Square sale is not in Shopify until someone syncs it).

Time comes from the stack's shared :class:`~sandboxes.base.clock.SandboxClock`: wall-clock
time in whole milliseconds, never before the world's ``now`` (the generated world is dated up
to ``DEMO_NOW`` whatever today is, and a sale made through the control API must be newer than
every generated count, or the gateway would rightly refuse it as out of date), strictly
increasing.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from sandboxes.base.clock import MILLISECOND, SandboxClock
from sandboxes.base.webhooks import Delivery, WebhookSender, square_signer
from sandboxes.demo.world import DemoLocation, DemoWorld
from sandboxes.square import render

JSON = dict[str, Any]

#: A made-up but Square-shaped merchant id.
MERCHANT_ID = "MLFRNHL7Q2X4S"


class SquareApiError(Exception):
    """A request Square would refuse; rendered as Square's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        category: str = "INVALID_REQUEST_ERROR",
        field: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.category = category
        self.field = field

    def response(self) -> web.Response:
        return error_response(self.status, self.category, self.code, self.detail, field=self.field)


def error_response(
    status: int,
    category: str,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    error: JSON = {"category": category, "code": code, "detail": detail}
    if field is not None:
        error["field"] = field
    return web.json_response({"errors": [error]}, status=status, headers=headers)


@dataclass(slots=True)
class SentEvent:
    """A webhook the sandbox emitted: its exact bytes (for redelivery) and each delivery."""

    event_id: str
    type: str
    body: bytes
    deliveries: list[Delivery] = field(default_factory=list)

    def summary(self) -> JSON:
        last = self.deliveries[-1] if self.deliveries else None
        return {
            "event_id": self.event_id,
            "type": self.type,
            "deliveries": len(self.deliveries),
            "status": last.status if last else None,
            "error": last.error if last else None,
        }


class SquareSandbox:
    def __init__(
        self,
        world: DemoWorld,
        *,
        access_token: str,
        signature_key: str,
        webhook_url: str | None = None,
        notification_url: str | None = None,
        page_size_cap: int | None = None,
        sandbox_clock: SandboxClock | None = None,
        merchant_id: str = MERCHANT_ID,
        phone_region: str = "US",
    ) -> None:
        self.world = private_copy(world)
        self.access_token = access_token
        self.signature_key = signature_key
        self.notification_url = notification_url
        self.merchant_id = merchant_id
        self.phone_region = phone_region
        #: Fewest results per page whatever the request's ``limit`` (Square's limits are
        #: advisory: "the response might contain fewer results"); lets tests paginate.
        self.page_size_cap = page_size_cap
        self.sender = WebhookSender(self._sign, url=webhook_url)
        self.events: list[SentEvent] = []
        self.versions_seen: Counter[str] = Counter()
        self.clock = sandbox_clock or SandboxClock(self.world.now)

    # --- time ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Wall time in whole milliseconds (what the wire carries), strictly after anything
        already in the world, so two changes never share a timestamp."""
        return self.clock.now(MILLISECOND)

    # --- reading ---------------------------------------------------------------------------------

    def square_locations(self) -> list[DemoLocation]:
        return [loc for loc in self.world.locations if loc.square_location_id]

    def location(self, square_id: str) -> DemoLocation | None:
        return self.world.locations_by_square_id.get(square_id)

    def location_json(self, loc: DemoLocation) -> JSON:
        return render.location(loc, self.world, self.merchant_id)

    # --- pagination ------------------------------------------------------------------------------

    def page(
        self,
        items: Sequence[JSON],
        body: Mapping[str, Any],
        *,
        limit: int,
    ) -> tuple[list[JSON], str | None]:
        """One page of ``items`` for a paginated search body.

        The cursor binds the offset to a fingerprint of the body without the cursor, so a
        client that changes its query between pages gets ``INVALID_CURSOR``, as from Square.
        """
        fingerprint = _fingerprint(body)
        offset = 0
        cursor = body.get("cursor")
        if cursor is not None:
            offset = _read_cursor(cursor, fingerprint)
        size = min(limit, self.page_size_cap) if self.page_size_cap else limit
        chunk = list(items[offset : offset + size])
        following = offset + size
        next_cursor = _make_cursor(following, fingerprint) if following < len(items) else None
        return chunk, next_cursor

    # --- webhooks --------------------------------------------------------------------------------

    def _sign(self, url: str, body: bytes) -> Mapping[str, str]:
        return square_signer(self.signature_key, self.notification_url)(url, body)

    def envelope(self, event_type: str, data: JSON, *, location_id: str | None = None) -> JSON:
        body: JSON = {
            "merchant_id": self.merchant_id,
            "type": event_type,
            "event_id": str(uuid.uuid4()),
            "created_at": render.timestamp(self.now()),
            "data": data,
        }
        if location_id is not None:
            body["location_id"] = location_id
        return body

    async def emit(
        self,
        event_type: str,
        data: JSON,
        *,
        location_id: str | None = None,
        deliver: bool = True,
    ) -> SentEvent:
        """Build, record, sign and deliver one event; waits for the delivery to finish, so a
        control request returns only after the gateway has answered. ``deliver=False`` holds
        the event back, to be delivered late with :meth:`deliver`."""
        envelope = self.envelope(event_type, data, location_id=location_id)
        sent = SentEvent(envelope["event_id"], event_type, json.dumps(envelope).encode())
        self.events.append(sent)
        if deliver:
            sent.deliveries.append(await self.sender.send(None, sent.body))
        return sent

    async def deliver(self, event_id: str) -> SentEvent | None:
        """Deliver an earlier event (again), byte for byte: Square retries with the same
        ``event_id``, and a held-back or retried event arriving late is how out-of-order
        delivery happens."""
        for sent in self.events:
            if sent.event_id == event_id:
                sent.deliveries.append(await self.sender.send(None, sent.body))
                return sent
        return None


def private_copy(world: DemoWorld) -> DemoWorld:
    """A world whose Square-owned records (locations, stock, Square customers and orders, the
    id sequence) are this sandbox's own; the rest (Shopify, Klaviyo, people) is shared and
    only read. Much cheaper than a deep copy of everything, and sandboxes start per test."""
    clone = copy.copy(world)
    clone.locations = copy.deepcopy(world.locations)
    clone.stock = copy.deepcopy(world.stock)
    clone.square_customers = copy.deepcopy(world.square_customers)
    clone.square_orders = copy.deepcopy(world.square_orders)
    clone.ids = copy.deepcopy(world.ids)
    clone.reindex()
    return clone


def _fingerprint(body: Mapping[str, Any]) -> str:
    rest = {k: v for k, v in body.items() if k != "cursor"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:16]


def _make_cursor(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: object, fingerprint: str) -> int:
    invalid = SquareApiError(
        400, "INVALID_CURSOR", "The pagination cursor is not valid.", field="cursor"
    )
    if not isinstance(cursor, str) or not cursor:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        offset, found = data["o"], data["f"]
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if found != fingerprint or not isinstance(offset, int) or offset < 0:
        raise invalid
    return offset
