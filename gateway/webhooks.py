"""``POST /webhooks/<vendor>``: verify, dedupe, parse, dispatch.

Order matters: the signature is checked on the raw body before anything reads it, so a forged
delivery changes nothing and costs little. Each event id is recorded once (a unique index in
MongoDB); a replay is acknowledged with 200 so the vendor stops retrying, but has no effect.
If handling fails the receipt is released and we answer 503, so the vendor's retry can
succeed later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors.webhooks import WebhookEndpoint, WebhookParseError
from resolvers.context import Services
from resolvers.webhook_events import WebhookDispatcher

log = logging.getLogger("omnigate.webhooks")


class WebhookRoute:
    def __init__(
        self,
        services: Services,
        endpoints: Mapping[str, WebhookEndpoint],
        dispatcher: WebhookDispatcher,
        *,
        public_urls: Mapping[str, str] | None = None,
    ) -> None:
        self.services = services
        self.endpoints = dict(endpoints)
        self.dispatcher = dispatcher
        #: The notification URL as registered with a vendor that signs it (Square).
        self.public_urls = dict(public_urls or {})

    async def handle(self, request: Request) -> JSONResponse:
        vendor = request.path_params["vendor"]
        endpoint = self.endpoints.get(vendor)
        if endpoint is None:
            return _reply(404, "unknown webhook vendor", "NOT_FOUND")
        body = await request.body()
        url = self.public_urls.get(vendor) or str(request.url)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not endpoint.verify(url=url, headers=headers, body=body):
            log.warning("rejected %s webhook with a bad signature", vendor)
            return _reply(401, "invalid signature", "UNAUTHENTICATED")
        try:
            events = endpoint.parse(headers=headers, body=body)
        except WebhookParseError as exc:
            log.warning("unparseable %s webhook: %s", vendor, exc)
            return _reply(400, "malformed webhook body", "BAD_REQUEST")
        applied = duplicates = 0
        store = self.services.store
        for event in events:
            if not await store.record_receipt(event.source, event.event_id, datetime.now(UTC)):
                duplicates += 1
                continue
            try:
                await self.dispatcher.handle(event)
            except Exception:
                log.exception("handling %s event %s failed", vendor, event.event_id)
                await store.release_receipt(event.source, event.event_id)
                return _reply(503, "event could not be applied; retry later", "RETRY")
            applied += 1
        return JSONResponse({"ok": True, "applied": applied, "duplicates": duplicates})


def _reply(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "code": code}, status_code=status)
