"""The customer 360 service over in-process fake connectors and the memory store:
resolution into the store, the cache's freshness rules, failures, merge/unmerge, erase."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from connectors.records import (
    Channel,
    CustomerChanged,
    CustomerRecord,
    OrderChanged,
    Source,
)
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.context import ResolverConfig, Services
from resolvers.customers.sync import sync_customers
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from resolvers.webhook_events import WebhookDispatcher
from tests.resolvers.fakes import FakeBundledCommerce, FakeCommerce, FakeMarketing
from tests.resolvers.world import T0, order, profile_of


async def test_sync_resolves_people_across_sources(services: Services) -> None:
    summary = await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    assert await profile_of(services, Source("square"), "Q1") == jane
    assert await profile_of(services, Source("square"), "Q2") == jane  # POS duplicate
    assert await profile_of(services, Source("klaviyo"), "K1") == jane
    # Family sharing a phone: two people, surfaced as possible duplicates.
    assert await profile_of(services, Source("shopify"), "S2") != await profile_of(
        services, Source("shopify"), "S3"
    )
    assert summary.possible_duplicates >= 1
    # Placeholder email shared by strangers merges nobody.
    strangers = {await profile_of(services, Source("square"), f"N{i}") for i in range(8)}
    assert len(strangers) == 8
    # The email-only subscriber has a profile of their own.
    assert await profile_of(services, Source("klaviyo"), "K9") not in (jane, *strangers)

    served = await services.customers.serve(
        (await services.store.profiles.get_profiles([jane]))[jane], jane, Loaders()
    )
    assert served is not None
    p = served.profile
    assert p.emails == ["jane@example.com"]
    assert p.lifetime_value == 140
    assert p.is_omnichannel
    assert p.last_opened_at == T0
    assert not served.stale


async def test_fresh_profile_makes_no_upstream_call(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    for fake in world.values():
        fake.calls.clear()
    doc = (await services.store.profiles.get_profiles([jane]))[jane]
    served = await services.customers.serve(doc, jane, Loaders())
    assert served is not None
    assert not served.stale
    assert sum(sum(f.calls.values()) for f in world.values()) == 0


async def test_stale_profile_is_served_at_once_and_refreshed_once(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    services.customers.clock = lambda: T0 + timedelta(days=400)
    shopify = world["shopify"]
    shopify.calls.clear()
    shopify.gate = asyncio.Event()  # hold the refresh in flight
    doc = (await services.store.profiles.get_profiles([jane]))[jane]
    served = await asyncio.gather(
        *(services.customers.serve(doc, jane, Loaders()) for _ in range(20))
    )
    assert all(s is not None and s.stale for s in served)
    shopify.gate.set()
    await services.customers.wait_idle()
    assert shopify.calls["get_customers"] == 1
    fresh = (await services.store.profiles.get_profiles([jane]))[jane]
    assert fresh.refreshed_at == T0 + timedelta(days=400)


async def test_failing_source_keeps_cache_and_reports_stale_with_code(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    before = (await services.store.profiles.get_profiles([jane]))[jane]
    services.customers.clock = lambda: T0 + timedelta(days=400)
    world["shopify"].failing = True
    await services.customers.refresh(jane)
    after = (await services.store.profiles.get_profiles([jane]))[jane]
    served = await services.customers.serve(after, jane, Loaders())
    assert served is not None
    assert served.stale
    assert [(s.source, s.code) for s in served.failed_sources] == [
        (Source("shopify"), "UPSTREAM_UNAVAILABLE")
    ]
    assert served.profile.lifetime_value == 140  # the cached data, not a partial rebuild
    assert after.refreshed_at == before.refreshed_at


async def test_cold_build_fetches_sources_once_for_many_profiles(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    await sync_customers(services)
    ids = sorted(
        {
            i.profile_id
            for i in (
                await services.store.identities.find_identities(
                    emails=["jane@example.com", "ann@example.com", "ben@example.com"]
                )
            )
        }
    )
    for pid in ids:
        await services.store.profiles.delete_profile(pid)
    for fake in world.values():
        fake.calls.clear()
    loaders = Loaders()
    served = await asyncio.gather(*(services.customers.serve(None, pid, loaders) for pid in ids))
    assert all(s is not None for s in served)
    assert world["shopify"].calls["get_customers"] == 1
    assert world["shopify"].calls["orders_for_customers"] == 1
    assert world["square"].calls["get_customers"] == 1


async def test_a_cold_build_asks_every_source_before_any_answers(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    """Sources are read in one wave: with every upstream held, each has already been asked
    for everything the profile needs, so a cold 360 waits for the slowest, not the sum."""
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    await services.store.profiles.delete_profile(jane)
    for fake in world.values():
        fake.calls.clear()
        fake.gate = asyncio.Event()
    build = asyncio.create_task(services.customers.serve(None, jane, Loaders()))
    for _ in range(20):
        await asyncio.sleep(0)
    asked = {name: dict(fake.calls) for name, fake in world.items()}
    assert asked == {
        "shopify": {"get_customers": 1, "orders_for_customers": 1},
        "square": {"get_customers": 1, "orders_for_customers": 1},
        "klaviyo": {"profiles": 1, "engagement": 1},
    }
    assert not build.done()
    for fake in world.values():
        assert fake.gate is not None
        fake.gate.set()
    served = await build
    assert served is not None
    assert served.profile.lifetime_value == 140


async def test_a_bundling_source_is_asked_once_for_customers_orders_and_guest_orders(
    world: dict[str, FakeCommerce | FakeMarketing],
) -> None:
    """A source that bundles (Shopify) answers a cold 360's customer, orders and guest
    orders in one call, batched across profiles; a failed bundle fails the source."""
    guest = dataclasses.replace(
        order(Source("shopify"), "g1", "", Channel.ONLINE, "25"),
        customer_id=None,
        email="JANE@example.com",
    )
    bundled = FakeBundledCommerce(
        Source("shopify"),
        customers=list(world["shopify"].customers.values()),  # type: ignore[union-attr]
        orders=[*world["shopify"].orders, guest],  # type: ignore[union-attr]
    )
    services = compose_services(
        store=MemoryStore(),
        connectors=ConnectorSet([bundled, world["square"], world["klaviyo"]]),  # type: ignore[list-item]
        events=EventBus(),
        config=ResolverConfig(profile_ttl_seconds=60),
    )
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    ann = await profile_of(services, Source("shopify"), "S2")
    for pid in (jane, ann):
        await services.store.profiles.delete_profile(pid)
    bundled.calls.clear()

    loaders = Loaders()
    served = await asyncio.gather(
        *(services.customers.serve(None, pid, loaders) for pid in (jane, ann))
    )

    assert dict(bundled.calls) == {"customer_bundle": 1}
    assert served[0] is not None
    assert {o.id for o in served[0].profile.orders} == {"o1", "q1", "g1"}
    assert served[0].profile.lifetime_value == 165
    bundled.failing = True
    services.customers.clock = lambda: T0 + timedelta(days=400)
    await services.customers.refresh(jane)
    after = await services.customers.serve(
        (await services.store.profiles.get_profiles([jane]))[jane], jane, Loaders()
    )
    assert after is not None
    assert [(s.source, s.code) for s in after.failed_sources] == [
        (Source("shopify"), "UPSTREAM_UNAVAILABLE")
    ]
    assert after.profile.lifetime_value == 165


async def test_merge_then_unmerge_restores_profiles(services: Services) -> None:
    await sync_customers(services)
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    target = await services.admin.merge([ann, ben], actor="test")
    assert target == ann
    assert await profile_of(services, Source("shopify"), "S3") == ann
    restored = await services.admin.unmerge(ann, actor="test")
    assert restored == [ann, ben]
    assert await profile_of(services, Source("shopify"), "S2") == ann
    assert await profile_of(services, Source("shopify"), "S3") == ben
    # A later sync respects the split... and the family stays apart anyway.
    await sync_customers(services)
    assert await profile_of(services, Source("shopify"), "S3") == ben


async def test_operator_merge_survives_a_later_sync(services: Services) -> None:
    await sync_customers(services)
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    await services.admin.merge([ann, ben], actor="test")
    await sync_customers(services)
    assert await profile_of(services, Source("shopify"), "S3") == ann


async def test_erase_removes_the_person_and_sync_does_not_bring_them_back(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    await services.admin.erase(jane)
    store = services.store
    assert await store.profiles.get_profiles([jane]) == {}
    assert await store.identities.identities_of([jane]) in ({}, {jane: []})
    assert await store.profiles.find_profiles(email="jane@example.com") == []
    assert world["klaviyo"].deleted == ["jane@example.com"]  # type: ignore[union-attr]
    summary = await sync_customers(services)
    assert summary.skipped_erased >= 4
    assert await store.profiles.find_profiles(email="jane@example.com") == []
    assert await store.identities.find_identities(emails=["jane@example.com"]) == []


async def test_sync_resumes_without_duplicates(services: Services) -> None:
    await sync_customers(services, stop_after=1)
    profiles_after_stop = {
        i.profile_id
        for i in await services.store.identities.find_identities(emails=["jane@example.com"])
    }
    summary = await sync_customers(services)
    assert summary.resumed
    assert summary.profiles_skipped >= 1
    jane_ids = {
        i.profile_id
        for i in await services.store.identities.find_identities(emails=["jane@example.com"])
    }
    assert jane_ids == profiles_after_stop
    assert len(jane_ids) == 1


async def test_webhooks_rebuild_the_profile(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    await sync_customers(services)
    dispatcher = WebhookDispatcher(services)
    shopify = world["shopify"]
    assert isinstance(shopify, FakeCommerce)
    shopify.orders.append(order(Source("shopify"), "o2", "S1", Channel.ONLINE, "60"))
    await dispatcher.handle(
        OrderChanged(Source("shopify"), "evt-1", None, order_id="o2", customer_id="S1")
    )
    jane = await profile_of(services, Source("shopify"), "S1")
    doc = (await services.store.profiles.get_profiles([jane]))[jane]
    assert doc.body["lifetime_value"] == "200"

    changed = CustomerRecord(Source("shopify"), "S2", "Ann", "Lee", ("ann.new@example.com",))
    shopify.customers["S2"] = changed
    await dispatcher.handle(
        CustomerChanged(Source("shopify"), "evt-2", None, customer_id="S2", customer=changed)
    )
    ann = await profile_of(services, Source("shopify"), "S2")
    assert (await services.store.profiles.get_profiles([ann]))[ann].emails == [
        "ann.new@example.com"
    ]


async def test_possible_duplicates_are_logged_once_with_their_reason(services: Services) -> None:
    await sync_customers(services)
    await sync_customers(services)  # a second run does not log the same pair again
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    flags = [
        e
        for e in await services.store.identities.merge_log(ann)
        if e.action == "possible_duplicate"
    ]
    assert len(flags) == 1
    assert set(flags[0].profile_ids) == {ann, ben}
    assert flags[0].reason == "shares a phone number"


async def test_customers_redact_webhook_erases_the_person(
    services: Services, world: dict[str, FakeCommerce | FakeMarketing]
) -> None:
    from connectors.records import PrivacyRequest, PrivacyRequestKind

    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    await WebhookDispatcher(services).handle(
        PrivacyRequest(
            Source("shopify"),
            "evt-redact",
            None,
            kind=PrivacyRequestKind.REDACT_CUSTOMER,
            customer_id="S1",
            email="jane@example.com",
        )
    )
    assert await services.store.profiles.get_profiles([jane]) == {}
    assert await services.store.identities.find_identities(emails=["jane@example.com"]) == []
    assert world["klaviyo"].deleted == ["jane@example.com"]  # type: ignore[union-attr]
