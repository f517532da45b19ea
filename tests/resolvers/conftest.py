"""Fixtures of the resolver tests: the fake vendors of :mod:`tests.resolvers.world` and the
services over them, on the memory store."""

from __future__ import annotations

import pytest

from connectors.records import (
    Channel,
    Consent,
    ConsentState,
    CustomerRecord,
    Engagement,
    MarketingProfile,
    Source,
)
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.context import ResolverConfig, Services
from resolvers.events import EventBus
from tests.resolvers.fakes import FakeCommerce, FakeMarketing
from tests.resolvers.world import T0, order


@pytest.fixture
def world() -> dict[str, FakeCommerce | FakeMarketing]:
    shopify = FakeCommerce(
        Source("shopify"),
        customers=[
            CustomerRecord(
                Source("shopify"), "S1", "Jane", "Doe", ("jane@example.com",), ("+12125550134",)
            ),
            CustomerRecord(
                Source("shopify"), "S2", "Ann", "Lee", ("ann@example.com",), ("+12125550199",)
            ),
            CustomerRecord(
                Source("shopify"), "S3", "Ben", "Lee", ("ben@example.com",), ("+12125550199",)
            ),
        ],
        orders=[order(Source("shopify"), "o1", "S1", Channel.ONLINE, "100")],
    )
    square = FakeCommerce(
        Source("square"),
        customers=[
            CustomerRecord(
                Source("square"), "Q1", "JANE", "DOE", ("JANE@EXAMPLE.COM",), ("(212) 555-0134",)
            ),
            CustomerRecord(Source("square"), "Q2", "Jane", "Doe", ("Jane@Example.com",)),
            *(
                CustomerRecord(Source("square"), f"N{i}", f"Stranger{i}", "X", ("none@none.com",))
                for i in range(8)
            ),
        ],
        orders=[order(Source("square"), "q1", "Q1", Channel.IN_STORE, "40")],
    )
    klaviyo = FakeMarketing(
        profiles=[
            MarketingProfile(
                Source("klaviyo"),
                "K1",
                email="jane@example.com",
                email_consent=Consent(ConsentState.SUBSCRIBED, True, T0),
            ),
            MarketingProfile(
                Source("klaviyo"), "K9", email="subscriber@example.com", first_name="Sub"
            ),
        ],
        engagement=[Engagement("K1", last_opened_at=T0)],
    )
    return {"shopify": shopify, "square": square, "klaviyo": klaviyo}


@pytest.fixture
def services(world: dict[str, FakeCommerce | FakeMarketing]) -> Services:
    return compose_services(
        store=MemoryStore(),
        connectors=ConnectorSet(world.values()),  # type: ignore[arg-type]
        events=EventBus(),
        config=ResolverConfig(profile_ttl_seconds=60),
    )
