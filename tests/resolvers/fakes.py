"""In-process connectors for resolver tests: they implement the capability protocols over
plain lists, count calls per operation, and can be told to fail."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime

from connectors.errors import UpstreamUnavailable
from connectors.records import (
    CustomerBundle,
    CustomerRecord,
    Engagement,
    MarketingProfile,
    OrderRecord,
    ProfileUpdate,
    Source,
)


class FakeConnector:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.calls: Counter[str] = Counter()
        self.failing = False
        self.gate: asyncio.Event | None = None
        #: Set on every call, before the gate: a test awaits it to know a call is under way.
        self.entered = asyncio.Event()

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def circuit_state(self) -> str:
        return "closed"

    async def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise UpstreamUnavailable(
                f"{self.source} is down", source=self.source, operation=operation, status=500
            )


class FakeCommerce(FakeConnector):
    """Shopify- or Square-like: customers and orders."""

    def __init__(
        self,
        source: Source,
        customers: Sequence[CustomerRecord] = (),
        orders: Sequence[OrderRecord] = (),
    ) -> None:
        super().__init__(source)
        self.customers = {c.id: c for c in customers}
        self.orders = list(orders)

    async def get_customers(self, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        await self._call("get_customers")
        return {i: self.customers[i] for i in ids if i in self.customers}

    async def search_customers(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = (), name: str | None = None
    ) -> list[CustomerRecord]:
        await self._call("search_customers")
        return [c for c in self.customers.values() if set(c.emails) & set(emails)]

    async def list_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[CustomerRecord]]:
        await self._call("list_customers")
        records = [
            c
            for c in self.customers.values()
            if updated_since is None or (c.updated_at and c.updated_at >= updated_since)
        ]
        for start in range(0, len(records), 50):
            yield records[start : start + 50]

    async def orders_for_customers(
        self, customer_ids: Sequence[str]
    ) -> Mapping[str, list[OrderRecord]]:
        await self._call("orders_for_customers")
        return {i: [o for o in self.orders if o.customer_id == i] for i in customer_ids}

    async def get_orders(self, ids: Sequence[str]) -> Mapping[str, OrderRecord]:
        await self._call("get_orders")
        return {o.id: o for o in self.orders if o.id in ids}


class FakeBundledCommerce(FakeCommerce):
    """Shopify-like: can also find orders by email and answer all three in one call."""

    async def orders_for_emails(self, emails: Sequence[str]) -> Mapping[str, list[OrderRecord]]:
        await self._call("orders_for_emails")
        return self._by_email(emails)

    async def customer_bundle(
        self, customer_ids: Sequence[str], emails: Sequence[str]
    ) -> CustomerBundle:
        await self._call("customer_bundle")
        return CustomerBundle(
            customers={i: self.customers[i] for i in customer_ids if i in self.customers},
            orders={i: [o for o in self.orders if o.customer_id == i] for i in customer_ids},
            email_orders=self._by_email(emails),
        )

    def _by_email(self, emails: Sequence[str]) -> dict[str, list[OrderRecord]]:
        return {e: [o for o in self.orders if (o.email or "").lower() == e.lower()] for e in emails}


class FakeMarketing(FakeConnector):
    def __init__(
        self, profiles: Sequence[MarketingProfile] = (), engagement: Sequence[Engagement] = ()
    ) -> None:
        super().__init__(Source("klaviyo"))
        self.profiles_by_id = {p.id: p for p in profiles}
        self.engagement_by_id = {e.profile_id: e for e in engagement}
        self.deleted: list[str | None] = []
        self.updates: list[ProfileUpdate] = []

    async def profiles(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = (), ids: Sequence[str] = ()
    ) -> list[MarketingProfile]:
        await self._call("profiles")
        return [
            p
            for p in self.profiles_by_id.values()
            if p.id in ids or p.email in emails or p.phone in phones
        ]

    async def engagement(self, profile_ids: Sequence[str]) -> Mapping[str, Engagement]:
        await self._call("engagement")
        return {i: self.engagement_by_id[i] for i in profile_ids if i in self.engagement_by_id}

    async def list_profiles(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[MarketingProfile]]:
        await self._call("list_profiles")
        # Klaviyo's ``greater-than(updated, ...)`` is strict.
        yield [
            p
            for p in self.profiles_by_id.values()
            if updated_since is None or (p.updated_at and p.updated_at > updated_since)
        ]

    async def update_profiles(self, updates: Sequence[ProfileUpdate]) -> None:
        await self._call("update_profiles")
        self.updates.extend(updates)

    async def request_deletion(self, *, email: str | None, phone: str | None) -> None:
        await self._call("request_deletion")
        self.deleted.append(email)
