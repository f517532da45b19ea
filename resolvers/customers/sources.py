"""Loading what every source knows about a set of identities, through DataLoaders.

All kinds of data (customers, orders, marketing profiles, engagement) are requested in one
wave (a source that can bundle customers, orders and guest orders is asked once for all
three), so a cold 360 costs the slowest source, not the sum of them; and because the loads go
through per-request loaders, a query that builds 50 profiles makes one call per source and
kind, not fifty.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.capabilities import (
    CustomerBundleSource,
    CustomerSource,
    GuestOrderSource,
    MarketingSource,
    OrderSource,
)
from connectors.errors import UpstreamError
from connectors.records import CustomerRecord, Engagement, MarketingProfile, OrderRecord, Source
from connectors.registry import ConnectorSet
from resolvers.customers.profile import SourceStatus
from resolvers.loaders import Loaders


@dataclass(slots=True)
class SourceData:
    customers: list[CustomerRecord] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    marketing: list[MarketingProfile] = field(default_factory=list)
    engagement: list[Engagement] = field(default_factory=list)
    statuses: dict[Source, SourceStatus] = field(default_factory=dict)

    @property
    def failed(self) -> list[SourceStatus]:
        return [s for s in self.statuses.values() if not s.ok]


def _batch(
    fetch: Callable[[list[str]], Awaitable[Mapping[str, Any]]],
    default: Callable[[], Any] | None,
) -> Callable[[list[str]], Awaitable[list[Any]]]:
    """A DataLoader batch function over a mapping-returning connector call. An upstream error
    fails every key of the batch with that error, so each caller can report it."""

    async def load(keys: list[str]) -> list[Any]:
        try:
            found = await fetch(list(dict.fromkeys(keys)))
        except UpstreamError as exc:
            return [exc for _ in keys]
        return [found.get(k, default() if default else None) for k in keys]

    return load


def _customers(c: CustomerSource) -> Callable[[list[str]], Awaitable[Mapping[str, CustomerRecord]]]:
    return c.get_customers


def _orders(c: OrderSource) -> Callable[[list[str]], Awaitable[Mapping[str, list[OrderRecord]]]]:
    return c.orders_for_customers


def _marketing(c: MarketingSource) -> Callable[[list[str]], Awaitable[Mapping[str, Any]]]:
    async def fetch(ids: list[str]) -> Mapping[str, MarketingProfile]:
        return {p.id: p for p in await c.profiles(ids=ids)}

    return fetch


#: A key of the bundle loader: a customer id, or an email whose orders are wanted.
BundleKey = tuple[str, str]


def _bundle(
    c: CustomerBundleSource,
) -> Callable[[list[BundleKey]], Awaitable[list[Any]]]:
    """One loader for a source's customers, orders and guest orders: a customer key answers
    ``(customer or None, its orders)``, an email key ``(None, its guest orders)``."""

    async def load(keys: list[BundleKey]) -> list[Any]:
        ids = list(dict.fromkeys(v for kind, v in keys if kind == "customer"))
        emails = list(dict.fromkeys(v for kind, v in keys if kind == "email"))
        try:
            bundle = await c.customer_bundle(ids, emails)
        except UpstreamError as exc:
            return [exc for _ in keys]
        answers: list[Any] = []
        for kind, value in keys:
            if kind == "customer":
                answers.append((bundle.customers.get(value), bundle.orders.get(value, [])))
            else:
                answers.append((None, _guest(bundle.email_orders.get(value, []))))
        return answers

    return load


def _guest(orders: list[OrderRecord]) -> list[OrderRecord]:
    """Guest checkouts among orders found by email: an order some customer placed is that
    customer's, even when it carries this email."""
    return [o for o in orders if o.customer_id is None]


def _engagement(c: MarketingSource) -> Callable[[list[str]], Awaitable[Mapping[str, Engagement]]]:
    return c.engagement


async def load_sources(
    identities: Sequence[tuple[Source, str]],
    connectors: ConnectorSet,
    loaders: Loaders,
    *,
    emails: Sequence[str] = (),
) -> SourceData:
    """Everything the enabled connectors know about these identities, in one wave.

    ``emails`` (normalised, no placeholders) find guest checkouts: orders with that contact
    email and no customer at all. An order placed by some other customer is theirs, even if
    it carries this email."""
    data = SourceData()
    by_source: dict[Source, list[str]] = {}
    for source, source_id in identities:
        by_source.setdefault(source, []).append(source_id)

    jobs: list[tuple[Source, str, Awaitable[Any]]] = []
    bundled: set[Source] = set()
    for bundler in connectors.of(CustomerBundleSource):
        keys: list[BundleKey] = [("customer", i) for i in by_source.get(bundler.source, [])]
        keys += [("email", e) for e in emails]
        if keys:
            bundle_loader = loaders.get(("bundle", bundler.source), _bundle(bundler))
            jobs.append((bundler.source, "bundle", bundle_loader.load_many(keys)))
            bundled.add(bundler.source)
    for source, ids in by_source.items():
        connector = connectors.get(source)
        if connector is None:
            continue
        if source not in bundled and isinstance(connector, CustomerSource):
            loader = loaders.get(("customers", source), _batch(_customers(connector), None))
            jobs.append((source, "customers", loader.load_many(ids)))
        if source not in bundled and isinstance(connector, OrderSource):
            loader = loaders.get(("orders", source), _batch(_orders(connector), list))
            jobs.append((source, "orders", loader.load_many(ids)))
        if isinstance(connector, MarketingSource):
            loader = loaders.get(("marketing", source), _batch(_marketing(connector), None))
            jobs.append((source, "marketing", loader.load_many(ids)))
            loader = loaders.get(("engagement", source), _batch(_engagement(connector), None))
            jobs.append((source, "engagement", loader.load_many(ids)))

    if emails:
        for guest in connectors.of(GuestOrderSource):
            if guest.source in bundled:
                continue
            loader = loaders.get(
                ("guest_orders", guest.source), _batch(guest.orders_for_emails, list)
            )
            jobs.append((guest.source, "guest_orders", loader.load_many(list(emails))))

    results = await asyncio.gather(*(job for _, _, job in jobs), return_exceptions=True)
    for (source, kind, _), result in zip(jobs, results, strict=True):
        status = data.statuses.setdefault(source, SourceStatus(source, ok=True))
        if isinstance(result, BaseException):
            if not isinstance(result, UpstreamError):
                raise result
            if status.ok:
                data.statuses[source] = SourceStatus(source, ok=False, code=result.code)
            continue
        values = [v for v in result if v is not None]
        if kind == "bundle":
            for customer, orders in values:
                if customer is not None:
                    data.customers.append(customer)
                data.orders.extend(orders)
        elif kind == "customers":
            data.customers.extend(values)
        elif kind == "orders":
            for orders in values:
                data.orders.extend(orders)
        elif kind == "guest_orders":
            for orders in values:
                data.orders.extend(_guest(orders))
        elif kind == "marketing":
            data.marketing.extend(values)
        else:
            data.engagement.extend(values)
    return data
