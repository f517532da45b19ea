"""``POST /webhooks/<vendor>``: verify, dedupe, parse, dispatch, and answer so the vendor
does the right thing next.

Order matters. The signature is checked on the raw body before anything reads it, so a forged
delivery changes nothing and costs little. Then the delivery is deduplicated twice:

* on the **body digest** (``body:<sha256>``): the same signed bytes are the same delivery,
  whatever unsigned headers come with them (Shopify signs only the body, so a captured body
  re-sent with another ``X-Shopify-Topic`` or a fresh ``X-Shopify-Event-Id`` is a replay);
* on each event's **vendor event id**, which also catches one event delivered in different
  bodies (Shopify's subscriptions on two API versions).

A receipt is *claimed* before its event is applied and *completed* after
(:meth:`~resolvers.store.WebhookStore.claim_receipt`): a second delivery meanwhile is told to retry
(never acknowledged as a duplicate of something that may yet fail), and a claim whose release
was lost in an outage lapses after :data:`CLAIM_LEASE`, so no event is dropped for good.

What the vendor is told:

=======================================  ==========================================
outcome                                  answer
=======================================  ==========================================
applied, or a duplicate / replay         200 ``{"ok": true, "applied", "duplicates"}``
the body can never be applied            200 ``{"ok": false, "deadLettered": true}``
the store or an upstream is unavailable  503 + ``Retry-After``, receipts released
the same body is being applied now       503 + ``Retry-After`` (``IN_PROGRESS``)
bad signature / unknown vendor           401 / 404
=======================================  ==========================================

"Can never be applied" is a body that does not parse into well-formed events of its topic
(:class:`~connectors.webhooks.WebhookParseError`), or an event whose handler fails with
anything but an outage (a bug, an unexpected value): retrying the same bytes would fail the
same way forever, and both vendors retry every non-2xx answer. Such a body is kept as a dead
letter (``docs/runbooks.md``: inspect, fix, :meth:`WebhookRoute.replay`). An outage
(:class:`~resolvers.store.StoreError`, :class:`~connectors.errors.UpstreamError`, a timeout)
is worth retrying, so the receipts are released and the vendor is asked to come back.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors import deadline
from connectors.errors import UpstreamError, UpstreamRateLimited
from connectors.records import Source
from connectors.webhooks import WebhookEndpoint, WebhookParseError, body_digest
from resolvers.context import Services
from resolvers.delivery import Delivery
from resolvers.errors import DeadlineExceeded
from resolvers.store import DeadLetter, ReceiptClaim, StoreError
from resolvers.webhook_events import WebhookDispatcher

log = logging.getLogger("omnigate.webhooks")

#: How long an unfinished claim holds a receipt. Longer than applying any event takes (a
#: handler's upstream calls are bounded by the HTTP timeouts and retries), short enough that
#: a claim stranded by an outage delays the vendor's retries by minutes, not hours.
CLAIM_LEASE = timedelta(minutes=5)
#: ``Retry-After`` on a 503, in seconds (vendors back off on their own schedule anyway).
RETRY_AFTER_SECONDS = 30

#: How long applying one delivery's events may take, in seconds. Shopify waits five for an
#: answer and counts a slower one as a failure (and retries); the profile rebuilds an event
#: starts run under their own deadline and finish in the background.
DEADLINE_SECONDS = 4.0

#: Failures of something other than the delivery: worth retrying later.
_OUTAGES = (StoreError, UpstreamError, DeadlineExceeded, TimeoutError, ConnectionError)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one delivery, before it becomes an HTTP response."""

    status: int
    body: dict[str, Any]
    retry_after: int | None = None

    @property
    def dead_lettered(self) -> bool:
        return bool(self.body.get("deadLettered"))

    @property
    def kind(self) -> str:
        """The delivery's outcome as metrics count it."""
        if self.status >= 500:
            return "retry_later"
        if self.status >= 400:
            return "rejected"
        if self.dead_lettered:
            return "dead_lettered"
        if not self.body.get("applied") and self.body.get("duplicates"):
            return "duplicate"
        return "accepted"

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


class WebhookRoute:
    def __init__(
        self,
        services: Services,
        endpoints: Mapping[str, WebhookEndpoint],
        dispatcher: WebhookDispatcher,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease: timedelta = CLAIM_LEASE,
        retry_after: int = RETRY_AFTER_SECONDS,
        deadline_seconds: float | None = DEADLINE_SECONDS,
    ) -> None:
        self.services = services
        self.endpoints = dict(endpoints)
        self.dispatcher = dispatcher
        self.clock = clock
        self.lease = lease
        self.retry_after = retry_after
        #: How long one delivery's events may take; see :data:`DEADLINE_SECONDS`.
        self.deadline_seconds = deadline_seconds
        #: Told each delivery's vendor and outcome kind (metrics).
        self.observe: Callable[[str, str], None] | None = None

    async def handle(self, request: Request) -> JSONResponse:
        vendor = request.path_params["vendor"]
        endpoint = self.endpoints.get(vendor)
        if endpoint is None:
            return _reply(404, "unknown webhook vendor", "NOT_FOUND").response()
        outcome = await self._deliver(request, vendor, endpoint)
        if self.observe is not None:
            self.observe(vendor, outcome.kind)
        return outcome.response()

    async def _deliver(self, request: Request, vendor: str, endpoint: WebhookEndpoint) -> Outcome:
        body = await request.body()
        # A vendor that signs the URL knows the one it registered (a proxy in front of the
        # gateway may make it differ from this one): its endpoint checks against that.
        url = str(request.url)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not endpoint.verify(url=url, headers=headers, body=body):
            log.warning("rejected %s webhook with a bad signature", vendor)
            return _reply(401, "invalid signature", "UNAUTHENTICATED")
        return await self.receive(vendor, endpoint, headers, body)

    async def replay(self, letter: DeadLetter) -> Outcome:
        """Run a dead letter through the route again, as the vendor first sent it (its
        signature was checked when it arrived). Its body receipt is released first, so it is
        not a replay of itself; events it applied before are still duplicates by event id.
        The letter is deleted once the delivery is applied; if it fails again the letter
        stays, with the new reason."""
        vendor = str(letter.source)
        endpoint = self.endpoints.get(vendor)
        if endpoint is None:
            return _reply(404, f"no webhook endpoint for {vendor}", "NOT_FOUND")
        store = self.services.store
        try:
            await store.webhooks.release_receipt(letter.source, _body_key(letter.body_digest))
        except StoreError:
            return self._retry_later("STORE_UNAVAILABLE")
        outcome = await self.receive(vendor, endpoint, dict(letter.headers), letter.body)
        if outcome.status == 200 and not outcome.dead_lettered:
            try:
                await store.webhooks.delete_dead_letter(letter.source, letter.body_digest)
            except StoreError:
                log.warning("replayed dead letter %s kept: the store failed", letter.body_digest)
        return outcome

    async def receive(
        self, vendor: str, endpoint: WebhookEndpoint, headers: Mapping[str, str], body: bytes
    ) -> Outcome:
        """Everything after verification: dedupe, parse, dispatch (also used by replay)."""
        source = endpoint.source
        named = endpoint.identify(headers=headers, body=body)
        digest = body_digest(body)
        delivery = Delivery(vendor, named.topic, named.event_id, digest)
        body_key = _body_key(digest)
        store = self.services.store
        try:
            claim = await store.webhooks.claim_receipt(
                source, body_key, self.clock(), lease=self.lease
            )
        except StoreError:
            log.warning("%s webhook %s: store unavailable", vendor, named.event_id)
            return self._retry_later("STORE_UNAVAILABLE")
        if claim is ReceiptClaim.DUPLICATE:
            log.info(
                "%s webhook body %s seen before (topic=%s event_id=%s): replay ignored",
                vendor,
                digest,
                named.topic,
                named.event_id,
            )
            return Outcome(200, {"ok": True, "applied": 0, "duplicates": 1, "replay": True})
        if claim is ReceiptClaim.IN_FLIGHT:
            return self._retry_later("IN_PROGRESS")
        try:
            events = endpoint.parse(headers=headers, body=body)
        except WebhookParseError as exc:
            return await self._dead_letter(endpoint, digest, delivery, headers, body, str(exc))
        applied = duplicates = 0
        for event in events:
            try:
                claim = await store.webhooks.claim_receipt(
                    source, event.event_id, self.clock(), lease=self.lease
                )
            except StoreError:
                return await self._abandon(source, [body_key], "STORE_UNAVAILABLE")
            if claim is ReceiptClaim.DUPLICATE:
                duplicates += 1
                continue
            if claim is ReceiptClaim.IN_FLIGHT:
                return await self._abandon(source, [body_key], "IN_PROGRESS")
            try:
                with deadline.within(self.deadline_seconds):
                    await self.dispatcher.handle(event, delivery)
            except _OUTAGES as exc:
                log.warning(
                    "%s webhook event %s not applied (%s); the vendor will retry",
                    vendor,
                    event.event_id,
                    type(exc).__name__,
                )
                return await self._abandon(
                    source, [event.event_id, body_key], _outage_code(exc), _retry_hint(exc)
                )
            except Exception as exc:
                log.exception("applying %s event %s failed", vendor, event.event_id)
                await self._release(source, event.event_id)
                reason = f"applying {type(event).__name__} {event.event_id} failed: "
                return await self._dead_letter(
                    endpoint, digest, delivery, headers, body, reason + type(exc).__name__
                )
            try:
                await store.webhooks.complete_receipt(source, event.event_id)
            except StoreError:
                # Applied, but not marked so: the claim lapses and a retry applies it again
                # (handlers tolerate that), rather than the event being lost.
                return await self._abandon(source, [body_key], "STORE_UNAVAILABLE")
            applied += 1
        try:
            await store.webhooks.complete_receipt(source, body_key)
        except StoreError:
            return self._retry_later("STORE_UNAVAILABLE")
        return Outcome(200, {"ok": True, "applied": applied, "duplicates": duplicates})

    # --- outcomes -------------------------------------------------------------------------------

    async def _dead_letter(
        self,
        endpoint: WebhookEndpoint,
        digest: str,
        delivery: Delivery,
        headers: Mapping[str, str],
        body: bytes,
        reason: str,
    ) -> Outcome:
        """Keep the delivery and acknowledge it. Its body receipt is completed, so the
        vendor's redeliveries of the same bytes are duplicates, not a retry loop."""
        source = endpoint.source
        body_key = _body_key(digest)
        letter = DeadLetter(
            source=source,
            body_digest=digest,
            reason=reason,
            received_at=self.clock(),
            body=body,
            topic=delivery.topic,
            event_id=delivery.event_id,
            headers={k: v for k, v in headers.items() if k in endpoint.delivery_headers},
        )
        store = self.services.store
        try:
            await store.webhooks.put_dead_letter(letter)
        except StoreError:
            return await self._abandon(source, [body_key], "STORE_UNAVAILABLE")
        log.warning(
            "dead-lettered %s webhook (topic=%s event_id=%s body_sha256=%s): %s",
            delivery.vendor,
            delivery.topic,
            delivery.event_id,
            digest,
            reason,
        )
        try:
            await store.webhooks.complete_receipt(source, body_key)
        except StoreError:
            return self._retry_later("STORE_UNAVAILABLE")
        return Outcome(
            200, {"ok": False, "deadLettered": True, "code": "DEAD_LETTERED", "reason": reason}
        )

    async def _abandon(
        self, source: Source, keys: list[str], code: str, retry_after: int | None = None
    ) -> Outcome:
        """Release what this attempt claimed and ask the vendor to retry."""
        for key in keys:
            await self._release(source, key)
        return self._retry_later(code, retry_after)

    async def _release(self, source: Source, key: str) -> None:
        try:
            await self.services.store.webhooks.release_receipt(source, key)
        except StoreError:
            log.warning("could not release receipt %s; its claim lapses in %s", key, self.lease)

    def _retry_later(self, code: str, retry_after: int | None = None) -> Outcome:
        outcome = _reply(503, "the delivery could not be applied now; retry later", code)
        return Outcome(outcome.status, outcome.body, max(retry_after or 0, self.retry_after))


def _body_key(digest: str) -> str:
    return "body:" + digest


def _outage_code(exc: BaseException) -> str:
    if isinstance(exc, StoreError):
        return "STORE_UNAVAILABLE"
    if isinstance(exc, UpstreamError):
        return exc.code
    return "UPSTREAM_UNAVAILABLE"


def _retry_hint(exc: BaseException) -> int | None:
    if isinstance(exc, UpstreamRateLimited) and exc.retry_after:
        return math.ceil(exc.retry_after)
    return None


def _reply(status: int, message: str, code: str) -> Outcome:
    return Outcome(status, {"ok": False, "error": message, "code": code})
