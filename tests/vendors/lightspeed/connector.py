"""A Lightspeed connector: ``CustomerSource`` over a small REST API, and a webhook endpoint
for ``customer.*`` deliveries."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.http import HttpClient, HttpConfig
from connectors.metrics import RequestCounter
from connectors.records import CustomerChanged, CustomerRecord, Source, WebhookEvent
from connectors.webhooks import DeliveryId, WebhookParseError, same_signature
from tests.vendors.lightspeed.wire import SIGNATURE_HEADER, TOPIC_HEADER, sign

SOURCE = Source("lightspeed")


def customer_record(raw: Mapping[str, Any]) -> CustomerRecord:
    return CustomerRecord(
        source=SOURCE,
        id=str(raw["id"]),
        first_name=raw.get("first_name"),
        last_name=raw.get("last_name"),
        emails=tuple(e for e in [raw.get("email")] if e),
        phones=tuple(p for p in [raw.get("phone")] if p),
        updated_at=datetime.fromisoformat(raw["updated_at"]) if raw.get("updated_at") else None,
    )


class LightspeedWebhooks:
    source = SOURCE
    delivery_headers = frozenset({SIGNATURE_HEADER, TOPIC_HEADER})

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verify(self, *, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        presented = headers.get(SIGNATURE_HEADER, "")
        return same_signature(sign(self._secret, body).encode(), presented.encode())

    def identify(self, *, headers: Mapping[str, str], body: bytes) -> DeliveryId:
        try:
            event_id = str(json.loads(body)["event_id"])
        except (ValueError, KeyError, TypeError):
            event_id = None
        return DeliveryId(topic=headers.get(TOPIC_HEADER), event_id=event_id)

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        try:
            payload = json.loads(body)
            customer = payload["customer"]
            return [
                CustomerChanged(
                    source=SOURCE,
                    event_id=str(payload["event_id"]),
                    occurred_at=None,
                    customer_id=str(customer["id"]),
                    deleted=headers.get(TOPIC_HEADER) == "customer.deleted",
                    customer=customer_record(customer),
                )
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookParseError(f"not a Lightspeed customer delivery: {exc}") from None


class LightspeedConnector:
    """Implements ``CustomerSource``."""

    source = SOURCE

    def __init__(
        self,
        http: HttpConfig,
        api_key: str,
        *,
        webhook_secret: str | None,
        counter: RequestCounter | None = None,
    ) -> None:
        headers = {**http.default_headers, "Authorization": f"Bearer {api_key}"}
        self.http = HttpClient(
            dataclasses.replace(http, default_headers=headers, max_connections=4),
            source=SOURCE,
            counter=counter,
        )
        self.webhooks = LightspeedWebhooks(webhook_secret) if webhook_secret else None

    async def start(self) -> None:
        await self.http.start()

    async def close(self) -> None:
        await self.http.close()

    def circuit_state(self) -> str:
        return self.http.circuit_state()

    async def get_customers(self, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        found = await self._customers([("id", i) for i in ids], "get_customers")
        return {c.id: c for c in found}

    async def search_customers(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        name: str | None = None,
    ) -> list[CustomerRecord]:
        query = [("email", e) for e in emails] + [("phone", p) for p in phones]
        if name:
            query.append(("name", name))
        return await self._customers(query, "search_customers") if query else []

    async def list_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[CustomerRecord]]:
        query = [] if updated_since is None else [("updated_since", updated_since.isoformat())]
        async for page in self._pages(query, "list_customers"):
            yield page

    async def _customers(
        self, query: list[tuple[str, str]], operation: str
    ) -> list[CustomerRecord]:
        return [c async for page in self._pages(query, operation) for c in page]

    async def _pages(
        self, query: list[tuple[str, str]], operation: str
    ) -> AsyncIterator[list[CustomerRecord]]:
        """Every page of ``GET /api/customers`` for ``query``, following ``next_page``."""
        page: int | None = 1
        while page is not None:
            response = await self.http.request(
                "GET", "/api/customers", params=[*query, ("page", str(page))], operation=operation
            )
            yield [customer_record(c) for c in response.json["customers"]]
            page = response.json.get("next_page")
