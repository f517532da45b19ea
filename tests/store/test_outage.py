"""A MongoDB store whose server is gone: the client the store builds has short, configured
timeouts (not the driver's 30 s), and every call fails with a ``StoreError`` whose code is
``STORE_UNAVAILABLE``. Tests that stop a server start a SecantusDB of their own."""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import PyMongoError

from connectors.records import Source
from gateway.store import MongoStore, MongoTimeouts, open_store
from gateway.store.mongo import (
    MongoCatalog,
    MongoCheckpoints,
    MongoCodes,
    MongoIdentities,
    MongoInventory,
    MongoLeases,
    MongoLedger,
    MongoProfiles,
    MongoSavedSegments,
    MongoSegments,
    MongoWebhooks,
    client_options,
)
from resolvers.model import ProfileDoc
from resolvers.store import (
    CatalogEntry,
    CatalogStore,
    CheckpointStore,
    CodeStore,
    IdentityStore,
    InventoryStore,
    LeaseStore,
    LedgerStore,
    ProfileStore,
    SavedSegmentStore,
    SegmentFactStore,
    Store,
    StoreError,
    WebhookStore,
)
from resolvers.store.codes import CodeOwner, CodePurpose
from resolvers.store.segments import AnyOf, Field, SegmentFacts
from tests.store.builders import T0, entry, hold, level

pytestmark = pytest.mark.mongo

#: Short enough that a test against a dead server finishes at once.
QUICK = MongoTimeouts(server_selection=0.2, connect=0.2, operation=0.5)


def free_port() -> int:
    """A loopback port where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_the_client_the_store_builds_uses_the_configured_timeouts() -> None:
    store = MongoStore(
        "mongodb://127.0.0.1:1/",
        "omnigate",
        timeouts=MongoTimeouts(server_selection=0.25, connect=0.5, operation=0.75),
    )
    try:
        options = store.database.client.options
        assert options.server_selection_timeout == 0.25
        assert options.pool_options.connect_timeout == 0.5
        assert options.timeout == 0.75  # CSOT: timeoutMS
    finally:
        await store.close()


async def test_default_timeouts_are_seconds_not_the_drivers_thirty() -> None:
    store = open_store("mongodb://127.0.0.1:1/", "omnigate")
    assert isinstance(store, MongoStore)
    try:
        options = store.database.client.options
        assert options.server_selection_timeout == MongoTimeouts().server_selection == 2.0
        assert options.pool_options.connect_timeout == MongoTimeouts().connect == 2.0
        assert options.timeout == MongoTimeouts().operation == 2.0
    finally:
        await store.close()


def test_a_timeout_named_in_the_uri_is_kept() -> None:
    options = client_options(
        QUICK, "mongodb://h:27017/?replicaSet=rs&ServerSelectionTimeoutMS=9000"
    )
    assert options == {"connectTimeoutMS": 200, "timeoutMS": 500}
    assert client_options(QUICK) == {
        "serverSelectionTimeoutMS": 200,
        "connectTimeoutMS": 200,
        "timeoutMS": 500,
    }


#: Each port of the composite, its protocol and its MongoDB implementation.
PORTS: dict[str, tuple[type, type]] = {
    "profiles": (ProfileStore, MongoProfiles),
    "identities": (IdentityStore, MongoIdentities),
    "inventory": (InventoryStore, MongoInventory),
    "catalog": (CatalogStore, MongoCatalog),
    "ledger": (LedgerStore, MongoLedger),
    "codes": (CodeStore, MongoCodes),
    "webhooks": (WebhookStore, MongoWebhooks),
    "checkpoints": (CheckpointStore, MongoCheckpoints),
    "leases": (LeaseStore, MongoLeases),
    "segments": (SegmentFactStore, MongoSegments),
    "saved_segments": (SavedSegmentStore, MongoSavedSegments),
}


def calls_of(protocol: type) -> list[str]:
    return [
        name
        for name, member in inspect.getmembers(protocol, inspect.isfunction)
        if not name.startswith("_")
    ]


def test_every_store_call_maps_driver_errors() -> None:
    """Each method of every port goes through ``mapped`` (which re-raises driver failures as
    ``StoreError``), and so does the composite's ``init``; ``ping`` answers False on any
    failure instead, and ``close`` raises nothing to map."""
    ports = [name for name, _ in inspect.getmembers(Store, lambda m: isinstance(m, property))]
    assert sorted(ports) == sorted(PORTS)  # every port of the composite is checked here
    assert "get_profiles" in calls_of(ProfileStore)
    assert calls_of(Store) == ["close", "init", "ping"]
    unmapped = [
        f"{port}.{name}"
        for port, (protocol, implementation) in PORTS.items()
        for name in calls_of(protocol)
        if not hasattr(getattr(implementation, name), "__wrapped__")
    ]
    assert unmapped == []
    assert hasattr(MongoStore.init, "__wrapped__")


async def test_init_with_nothing_listening_is_store_unavailable() -> None:
    store = MongoStore(f"mongodb://127.0.0.1:{free_port()}/", "omnigate", timeouts=QUICK)
    try:
        with pytest.raises(StoreError) as raised:
            await store.init()
        assert raised.value.code == "STORE_UNAVAILABLE"
        assert isinstance(raised.value.__cause__, PyMongoError)
        assert await store.ping() is False
    finally:
        await store.close()


@pytest.fixture
async def own_server(tmp_path: Path) -> AsyncIterator[Any]:
    """A SecantusDB server this test may stop (the session's one is shared)."""
    from secantus import SecantusDBServer

    server = SecantusDBServer(storage_path=str(tmp_path / "secantus"))
    server.start()
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def _calls(store: MongoStore) -> dict[str, Callable[[], Awaitable[object]]]:
    """One call of each kind the gateway makes: reads, conditional writes, transactions."""
    return {
        "init": store.init,
        "get_profiles": lambda: store.profiles.get_profiles(["p1"]),
        "put_profile": lambda: store.profiles.put_profile(ProfileDoc(id="p2", body={"n": 2})),
        "find_profiles": lambda: store.profiles.find_profiles(email="a@example.com"),
        "identities_of": lambda: store.identities.identities_of(["p1"]),
        "record_receipt": lambda: store.webhooks.record_receipt(Source("shopify"), "e1", T0),
        "apply_stock_level": lambda: store.inventory.apply_stock_level(level(available=3)),
        "get_stock": lambda: store.inventory.get_stock(["SKU-1"]),
        "create_hold": lambda: store.inventory.create_hold(hold("h1")),
        "complete_hold": lambda: store.inventory.complete_hold("h1", at=T0),
        "changes_since": lambda: store.inventory.changes_since(0),
        "search_entries": lambda: store.catalog.search_entries("tee"),
        "put_entries": lambda: store.catalog.put_entries(
            [CatalogEntry(sku="TEE-1", title="Tee", seen_at=T0)]
        ),
        "apply_ledger_entry": lambda: store.ledger.apply_ledger_entry(entry("earn:1", 10)),
        "code_owner": lambda: store.codes.code_owner("ABCDEFGH12"),
        "register_codes": lambda: store.codes.register_codes(
            [CodeOwner("ABCDEFGH12", "p1", CodePurpose.MEMBER)]
        ),
        "get_checkpoint": lambda: store.checkpoints.get_checkpoint("sync"),
        "take_lease": lambda: store.leases.take_lease("sync", "a", now=T0, ttl=timedelta(1)),
        "put_facts": lambda: store.segments.put_facts(SegmentFacts("p1", 1)),
        "find_facts": lambda: store.segments.find_facts(
            AnyOf(Field.SKUS, frozenset({"SKU-1"})), first=10
        ),
    }


async def test_a_server_that_goes_away_makes_every_call_store_unavailable(own_server: Any) -> None:
    store = MongoStore(own_server.uri, "omnigate_outage", timeouts=QUICK)
    try:
        await store.init()
        await store.profiles.put_profile(ProfileDoc(id="p1", body={"n": 1}))
        assert await store.ping() is True

        await asyncio.to_thread(own_server.stop)

        assert await store.ping() is False
        failed: dict[str, str] = {}
        for name, call in _calls(store).items():
            with pytest.raises(StoreError) as raised:
                await call()
            failed[name] = raised.value.code
            assert isinstance(raised.value.__cause__, PyMongoError), name
        assert failed == dict.fromkeys(_calls(store), "STORE_UNAVAILABLE")
    finally:
        await store.close()


async def test_ping_is_false_until_init_has_created_the_indexes(own_server: Any) -> None:
    store = MongoStore(own_server.uri, "omnigate_ping", timeouts=QUICK)
    try:
        assert await store.ping() is False
        await store.init()
        assert await store.ping() is True
    finally:
        await store.close()
