"""One fixture per store port, each on every backend of ``tests/store/backends.py``.

A port's MongoDB implementation is built alone on a fresh database, with only the
collections and indexes it prepares itself: its contract must not lean on another port's.
"""

from __future__ import annotations

from typing import TypeVar

import pytest

from gateway.store.memory import (
    MemoryCatalog,
    MemoryCheckpoints,
    MemoryCodes,
    MemoryIdentities,
    MemoryInventory,
    MemoryLeases,
    MemoryLedger,
    MemoryProfiles,
    MemorySavedSegments,
    MemorySegments,
    MemoryWebhooks,
)
from gateway.store.mongo import (
    MongoBackend,
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
)
from gateway.store.mongo.base import MongoPort
from resolvers.store import (
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
    WebhookStore,
)

_Port = TypeVar("_Port", bound=MongoPort)


async def prepared(port: _Port) -> _Port:
    await port.prepare()
    return port


@pytest.fixture
async def profiles(mongo_backend: MongoBackend | None) -> ProfileStore:
    if mongo_backend is None:
        return MemoryProfiles()
    return await prepared(MongoProfiles(mongo_backend))


@pytest.fixture
async def identities(mongo_backend: MongoBackend | None) -> IdentityStore:
    if mongo_backend is None:
        return MemoryIdentities()
    return await prepared(MongoIdentities(mongo_backend))


@pytest.fixture
async def inventory(mongo_backend: MongoBackend | None) -> InventoryStore:
    if mongo_backend is None:
        return MemoryInventory()
    return await prepared(MongoInventory(mongo_backend))


@pytest.fixture
async def catalog(mongo_backend: MongoBackend | None) -> CatalogStore:
    if mongo_backend is None:
        return MemoryCatalog()
    return await prepared(MongoCatalog(mongo_backend))


@pytest.fixture
async def ledger(mongo_backend: MongoBackend | None) -> LedgerStore:
    if mongo_backend is None:
        return MemoryLedger()
    return await prepared(MongoLedger(mongo_backend))


@pytest.fixture
async def webhooks(mongo_backend: MongoBackend | None) -> WebhookStore:
    if mongo_backend is None:
        return MemoryWebhooks()
    return await prepared(MongoWebhooks(mongo_backend))


@pytest.fixture
async def checkpoints(mongo_backend: MongoBackend | None) -> CheckpointStore:
    if mongo_backend is None:
        return MemoryCheckpoints()
    return await prepared(MongoCheckpoints(mongo_backend))


@pytest.fixture
async def leases(mongo_backend: MongoBackend | None) -> LeaseStore:
    if mongo_backend is None:
        return MemoryLeases()
    return await prepared(MongoLeases(mongo_backend))


@pytest.fixture
async def codes(mongo_backend: MongoBackend | None) -> CodeStore:
    if mongo_backend is None:
        return MemoryCodes()
    return await prepared(MongoCodes(mongo_backend))


@pytest.fixture
async def segments(mongo_backend: MongoBackend | None) -> SegmentFactStore:
    if mongo_backend is None:
        return MemorySegments()
    return await prepared(MongoSegments(mongo_backend))


@pytest.fixture
async def saved_segments(mongo_backend: MongoBackend | None) -> SavedSegmentStore:
    if mongo_backend is None:
        return MemorySavedSegments()
    return await prepared(MongoSavedSegments(mongo_backend))
