"""Operations racing on one customer: a rebuild in flight while the person is erased, merged
or unmerged; merges undone in order; vendor updates delivered out of order; an erased person
reported again by a vendor. Each race is staged deterministically: the vendors are held at a
gate until the competing operation has finished."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from connectors.records import Channel, CustomerChanged, CustomerRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from gateway.store.memory import MemoryIdentities
from resolvers.context import ResolverConfig, Services
from resolvers.customers.sync import sync_customers
from resolvers.customers.tombstones import tombstone
from resolvers.errors import BadUserInput
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from resolvers.model import Identity
from resolvers.store import Store
from resolvers.webhook_events import WebhookDispatcher
from tests.resolvers.fakes import FakeCommerce, FakeMarketing
from tests.resolvers.world import T0, order, profile_of

World = dict[str, FakeCommerce | FakeMarketing]


@pytest.fixture
def services(store: Store, world: World) -> Services:
    """The races run on every store backend: memory, SecantusDB, and a real MongoDB."""
    return compose_services(
        store=store,
        connectors=ConnectorSet(world.values()),  # type: ignore[arg-type]
        events=EventBus(),
        config=ResolverConfig(profile_ttl_seconds=60),
    )


def hold_vendors(world: World) -> asyncio.Event:
    """Hold Shopify's answers (the email tool stays free: an erasure asks it to delete)."""
    gate = asyncio.Event()
    world["shopify"].gate = gate
    world["shopify"].entered.clear()
    return gate


async def in_flight(world: World) -> None:
    """Until a rebuild has read the store and is waiting on a vendor."""
    await world["shopify"].entered.wait()


async def emails_found(services: Services, email: str) -> list[str]:
    return [d.id for d in await services.store.profiles.find_profiles(email=email)]


async def test_an_erase_during_a_refresh_is_not_undone(services: Services, world: World) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    gate = hold_vendors(world)
    refresh = asyncio.create_task(services.customers.refresh(jane))
    await in_flight(world)

    await services.admin.erase(jane)
    gate.set()
    assert await refresh is None

    assert await services.store.profiles.get_profiles([jane]) == {}
    assert await emails_found(services, "jane@example.com") == []
    assert (await services.store.identities.identities_of([jane]))[jane] == []


async def test_an_erase_during_a_first_build_is_not_undone(
    services: Services, world: World
) -> None:
    """A person just linked, never built: the first build races the erasure."""
    shopify = world["shopify"]
    assert isinstance(shopify, FakeCommerce)
    eve = CustomerRecord(Source("shopify"), "S9", "Eve", "Ray", ("eve@example.com",))
    shopify.customers["S9"] = eve
    report = await services.linker.link([eve])
    [new] = report.created
    gate = hold_vendors(world)
    build = asyncio.create_task(services.customers.serve(None, new, Loaders()))
    await in_flight(world)

    await services.admin.erase(new)
    gate.set()
    assert await build is None
    assert await services.store.profiles.get_profiles([new]) == {}
    assert await emails_found(services, "eve@example.com") == []


async def test_a_merge_during_refreshes_leaves_no_ghost_and_a_whole_survivor(
    services: Services, world: World
) -> None:
    await sync_customers(services)
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    gate = hold_vendors(world)
    stale_ann = asyncio.create_task(services.customers.refresh(ann))
    stale_ben = asyncio.create_task(services.customers.refresh(ben))
    await in_flight(world)

    assert await services.admin.merge([ann, ben], actor="test") == ann
    after_merge = asyncio.create_task(services.customers.refresh(ann))  # joins the stale one
    gate.set()
    await asyncio.gather(stale_ann, stale_ben, after_merge)

    assert await services.store.profiles.get_profiles([ben]) == {}
    assert await emails_found(services, "ben@example.com") == [ann]
    survivor = (await services.store.profiles.get_profiles([ann]))[ann]
    assert sorted(survivor.emails) == ["ann@example.com", "ben@example.com"]


async def test_points_follow_a_merge_during_refreshes_and_come_back_on_unmerge(
    services: Services, world: World
) -> None:
    shopify = world["shopify"]
    assert isinstance(shopify, FakeCommerce)
    shopify.orders += [
        order(Source("shopify"), "o2", "S2", Channel.ONLINE, "30"),
        order(Source("shopify"), "o3", "S3", Channel.ONLINE, "50"),
    ]
    await sync_customers(services)
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    ledger = services.store.ledger
    before = {
        pid: (await ledger.get_account(pid), await ledger.ledger_entries(pid)) for pid in (ann, ben)
    }
    assert [a.balance for a, _ in before.values() if a] == [30, 50]
    gate = hold_vendors(world)
    stale = [asyncio.create_task(services.customers.refresh(p)) for p in (ann, ben)]
    await in_flight(world)

    await services.admin.merge([ann, ben], actor="test")
    after_merge = asyncio.create_task(services.customers.refresh(ann))
    gate.set()
    await asyncio.gather(*stale, after_merge)

    survivor = await ledger.get_account(ann)
    assert survivor is not None
    assert survivor.balance == 80
    assert await ledger.get_account(ben) is None
    keys = sorted(e.key for e in await ledger.ledger_entries(ann))
    assert keys == ["earn:shopify:order:o2", "earn:shopify:order:o3"]

    await services.admin.unmerge(ann, actor="test")
    for pid in (ann, ben):
        await services.customers.refresh(pid)
    assert {
        pid: (await ledger.get_account(pid), await ledger.ledger_entries(pid)) for pid in (ann, ben)
    } == before


async def test_an_unmerge_during_a_refresh_is_not_undone(services: Services, world: World) -> None:
    await sync_customers(services)
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    await services.admin.merge([ann, ben], actor="test")
    await services.customers.refresh(ann)
    gate = hold_vendors(world)
    stale = asyncio.create_task(services.customers.refresh(ann))
    await in_flight(world)

    await services.admin.unmerge(ann, actor="test")
    gate.set()
    await stale
    await services.customers.refresh(ben)

    assert (await services.store.profiles.get_profiles([ann]))[ann].emails == ["ann@example.com"]
    assert await emails_found(services, "ben@example.com") == [ben]


async def test_two_unmerges_undo_two_merges_in_reverse_order(services: Services) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    ann = await profile_of(services, Source("shopify"), "S2")
    ben = await profile_of(services, Source("shopify"), "S3")
    jane_records = sorted(
        i.source_id for i in (await services.store.identities.identities_of([jane]))[jane]
    )
    await services.admin.merge([jane, ann], actor="test")
    await services.admin.merge([jane, ben], actor="test")

    assert await services.admin.unmerge(jane, actor="test") == [jane, ben]
    assert await profile_of(services, Source("shopify"), "S3") == ben
    assert await profile_of(services, Source("shopify"), "S2") == jane

    assert await services.admin.unmerge(jane, actor="test") == [jane, ann]
    assert await profile_of(services, Source("shopify"), "S2") == ann
    assert await profile_of(services, Source("shopify"), "S3") == ben
    assert (
        sorted(i.source_id for i in (await services.store.identities.identities_of([jane]))[jane])
        == jane_records
    )
    for pid in (jane, ann, ben):
        await services.customers.refresh(pid)
    assert await emails_found(services, "ann@example.com") == [ann]
    assert await emails_found(services, "ben@example.com") == [ben]

    with pytest.raises(BadUserInput):  # nothing left to undo
        await services.admin.unmerge(jane, actor="test")


async def test_an_older_customer_update_does_not_overwrite_a_newer_one(
    services: Services, world: World
) -> None:
    await sync_customers(services)
    dispatcher = WebhookDispatcher(services)
    shopify = world["shopify"]
    assert isinstance(shopify, FakeCommerce)
    newer = CustomerRecord(
        Source("shopify"),
        "S2",
        "Ann",
        "Lee",
        ("ann.new@example.com",),
        updated_at=T0 + timedelta(hours=2),
    )
    older = CustomerRecord(
        Source("shopify"),
        "S2",
        "Ann",
        "Lee",
        ("ann.old@example.com",),
        updated_at=T0 + timedelta(hours=1),
    )
    shopify.customers["S2"] = newer
    await dispatcher.handle(CustomerChanged(Source("shopify"), "e-new", None, "S2", customer=newer))
    await dispatcher.handle(CustomerChanged(Source("shopify"), "e-old", None, "S2", customer=older))

    [identity] = (
        await services.store.identities.get_identities([(Source("shopify"), "S2")])
    ).values()
    assert identity.emails == ("ann.new@example.com",)
    ann = identity.profile_id
    assert await emails_found(services, "ann.new@example.com") == [ann]
    assert await emails_found(services, "ann.old@example.com") == []
    assert await services.store.identities.find_identities(emails=["ann.old@example.com"]) == []


async def test_an_erased_person_is_not_brought_back_by_a_later_webhook(
    services: Services, world: World
) -> None:
    await sync_customers(services)
    jane = await profile_of(services, Source("shopify"), "S1")
    await services.admin.erase(jane)
    dispatcher = WebhookDispatcher(services)
    shopify, square = world["shopify"], world["square"]
    assert isinstance(shopify, FakeCommerce)
    assert isinstance(square, FakeCommerce)
    # Her Shopify record (same id) and a Square record with her email (new id) both arrive.
    again = shopify.customers["S1"]
    await dispatcher.handle(CustomerChanged(Source("shopify"), "e-1", None, "S1", customer=again))
    new_pos = CustomerRecord(Source("square"), "Q-new", "Jane", "Doe", ("jane@example.com",))
    await dispatcher.handle(
        CustomerChanged(Source("square"), "e-2", None, "Q-new", customer=new_pos)
    )

    assert await services.store.identities.find_identities(emails=["jane@example.com"]) == []
    assert await services.store.identities.get_identities([(Source("shopify"), "S1")]) == {}
    assert await emails_found(services, "jane@example.com") == []
    assert await services.customers.refresh(jane) is None


class _EraseDuringLink(MemoryIdentities):
    """Identities on which an erasure lands between the linker's tombstone check and its
    write: the tombstones appear just before the identities are written."""

    def __init__(self) -> None:
        super().__init__()
        self.erasing: list[str] = []

    async def link_identities(self, identities: list[Identity]) -> None:  # type: ignore[override]
        await super().link_identities(identities)
        if self.erasing:
            await self.add_tombstones(self.erasing)
            self.erasing = []


async def test_a_link_racing_an_erasure_takes_back_what_it_linked(world: World) -> None:
    store = MemoryStore()
    store.identities = erasing = _EraseDuringLink()
    services = compose_services(
        store=store, connectors=ConnectorSet(world.values()), events=EventBus()
    )  # type: ignore[arg-type]
    record = CustomerRecord(Source("shopify"), "S9", "Eve", "Ray", ("eve@example.com",))
    erasing.erasing = [tombstone(Source("shopify"), "S9")]
    await services.linker.link([record])
    assert await store.identities.get_identities([(Source("shopify"), "S9")]) == {}
    assert await store.identities.find_identities(emails=["eve@example.com"]) == []
