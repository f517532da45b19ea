"""Profile rebuilds and deadlines: a rebuild runs under its own deadline (the service's
``refresh_deadline``), never its first caller's, so it can finish and fill the cache for
everyone; a request waiting for it stops at its own deadline with ``UPSTREAM_TIMEOUT``."""

from __future__ import annotations

import asyncio

import pytest

from connectors import deadline
from connectors.records import CustomerRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.context import ResolverConfig, Services
from resolvers.customers.sync import sync_customers
from resolvers.errors import DeadlineExceeded
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from tests.resolvers.fakes import FakeCommerce


@pytest.fixture
def shopify() -> FakeCommerce:
    return FakeCommerce(
        Source("shopify"),
        customers=[CustomerRecord(Source("shopify"), "S1", "Jane", "Doe", ("jane@example.com",))],
    )


@pytest.fixture
async def cold(shopify: FakeCommerce) -> tuple[Services, str]:
    """Services whose one profile is known by its identities but not cached."""
    services = compose_services(
        store=MemoryStore(),
        connectors=ConnectorSet([shopify]),  # type: ignore[list-item]
        events=EventBus(),
        config=ResolverConfig(refresh_deadline_seconds=30.0),
    )
    await sync_customers(services)
    found = await services.store.identities.get_identities([(Source("shopify"), "S1")])
    profile_id = found[(Source("shopify"), "S1")].profile_id
    assert await services.store.profiles.delete_profile(profile_id)
    return services, profile_id


def record_deadlines(connector: FakeCommerce) -> list[deadline.Deadline | None]:
    """The deadline each upstream call of ``connector`` ran under."""
    seen: list[deadline.Deadline | None] = []
    original = connector._call

    async def call(operation: str) -> None:
        seen.append(deadline.current())
        await original(operation)

    connector._call = call  # type: ignore[method-assign]
    return seen


async def test_a_request_stops_waiting_at_its_deadline_and_the_rebuild_fills_the_cache(
    cold: tuple[Services, str], shopify: FakeCommerce
) -> None:
    services, profile_id = cold
    shopify.gate = asyncio.Event()  # Shopify answers only when told to

    with deadline.within(0.05), pytest.raises(DeadlineExceeded) as raised:
        await services.customers.serve(None, profile_id, Loaders())
    assert raised.value.code == "UPSTREAM_TIMEOUT"
    assert raised.value.extensions == {"customerId": profile_id}

    shopify.gate.set()
    await services.customers.wait_idle()  # the rebuild went on without the request
    cached = (await services.store.profiles.get_profiles([profile_id]))[profile_id]
    assert cached.body["emails"] == ["jane@example.com"]


async def test_a_rebuild_runs_under_its_own_deadline_not_its_first_callers(
    cold: tuple[Services, str], shopify: FakeCommerce
) -> None:
    services, profile_id = cold
    seen = record_deadlines(shopify)
    with deadline.within(1.0) as request:
        served = await services.customers.serve(None, profile_id, Loaders())
    assert served is not None
    assert request is not None
    assert seen
    assert all(d is not None and d.at > request.at + 20 for d in seen)  # ~30 s, not ~1 s


async def test_a_background_refresh_does_not_inherit_the_requests_deadline(
    cold: tuple[Services, str], shopify: FakeCommerce, caplog: pytest.LogCaptureFixture
) -> None:
    """Scheduled by a request whose deadline has already passed (a stale profile served at
    the last moment): the refresh still runs to the end, under its own deadline."""
    services, profile_id = cold
    seen = record_deadlines(shopify)
    with deadline.within(0.0) as request:
        services.customers.refresh_in_background(profile_id)
    await services.customers.wait_idle()
    assert "background profile refresh failed" not in caplog.text
    assert (await services.store.profiles.get_profiles([profile_id]))[profile_id].body
    assert request is not None
    assert seen
    assert all(d is not None and d.at > request.at + 20 for d in seen)


async def test_a_backfill_rebuilds_without_a_deadline(shopify: FakeCommerce) -> None:
    """A sync's rebuilds share batched calls paced by the vendors' rate limits: no refresh
    deadline applies to them (even one already over)."""
    services = compose_services(
        store=MemoryStore(),
        connectors=ConnectorSet([shopify]),  # type: ignore[list-item]
        events=EventBus(),
        config=ResolverConfig(refresh_deadline_seconds=0.0),
    )
    seen = record_deadlines(shopify)
    summary = await sync_customers(services)
    assert summary.profiles_built == 1
    assert seen
    assert seen == [None] * len(seen)
