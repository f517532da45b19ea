"""The store backends, as a pytest plugin (registered in ``tests/conftest.py``, so resolver
tests can race operations on the same backends).

One contract, three backends: every test that takes ``store`` (the composite) or one port
(``profiles``, ``inventory``... see ``tests/store/conftest.py``) runs against the memory
implementation, against SecantusDB (a MongoDB-wire server started in-process, reached
through the real ``AsyncMongoClient``; it reports itself as a replica set and does
transactions) and, when ``MONGODB_URI`` is set, against a real MongoDB, which must be a
replica set too.

SecantusDB is GPL and test-only: it is imported here and nowhere in the product.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from gateway.store import MemoryStore, MongoStore, MongoTimeouts
from gateway.store.mongo import MongoBackend, client_options
from resolvers.store import Store
from tests.store.builders import Doc, MongoStoreFactory


@pytest.fixture(scope="session")
def secantus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the whole session (start-up is the slow part); tests are isolated by
    each using a fresh database."""
    from secantus import SecantusDBServer

    with SecantusDBServer(storage_path=str(tmp_path_factory.mktemp("secantus"))) as server:
        yield server.uri


@pytest.fixture
def mongo_uri(backend: str, request: pytest.FixtureRequest) -> str | None:
    """``None`` for the memory backend. A sync fixture, so it may start the session server
    on first use (async fixtures cannot request fixtures dynamically)."""
    if backend == "memory":
        return None
    if backend == "secantus":
        uri: str = request.getfixturevalue("secantus_uri")
        return uri
    from_env = os.environ.get("MONGODB_URI")
    if not from_env:
        pytest.skip("MONGODB_URI not set: real MongoDB contract run skipped")
    return from_env


@pytest.fixture
async def mongo_client(mongo_uri: str | None) -> AsyncIterator[AsyncMongoClient[Doc] | None]:
    """Created per test, inside the test's event loop: an async client is bound to the loop
    it first runs in. Cheap against a local server. Built with the options the store gives
    its own clients (a client-side operation timeout among them), with room for a slow
    machine, so the contract holds under them."""
    if mongo_uri is None:
        yield None
        return
    timeouts = MongoTimeouts(server_selection=5.0, connect=5.0, operation=20.0)
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        mongo_uri, **client_options(timeouts, mongo_uri)
    )
    try:
        yield client
    finally:
        await client.close()


def fresh_database_name() -> str:
    return f"omnigate_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def make_mongo_store(
    mongo_client: AsyncMongoClient[Doc] | None,
) -> AsyncIterator[MongoStoreFactory]:
    """Builds initialised stores, each on a fresh database (dropped at teardown), so tests
    sharing the session's server never see each other's documents."""
    names: list[str] = []

    async def make(**options: Any) -> MongoStore:
        assert mongo_client is not None, "a MongoDB backend is needed"
        name = fresh_database_name()
        names.append(name)
        mongo = MongoStore(mongo_client, name, **options)
        await mongo.init()
        return mongo

    yield make
    for name in names:
        assert mongo_client is not None
        await mongo_client.drop_database(name)


@pytest.fixture
async def mongo_backend(
    mongo_client: AsyncMongoClient[Doc] | None,
) -> AsyncIterator[MongoBackend | None]:
    """What one port's MongoDB implementation runs on, alone: a fresh database (dropped at
    teardown) on a server checked to be a replica set, as ``MongoStore.init`` checks it.
    ``None`` on the memory backend."""
    if mongo_client is None:
        yield None
        return
    name = fresh_database_name()
    on = MongoBackend(mongo_client, name)
    await on.require_replica_set()
    try:
        yield on
    finally:
        await mongo_client.drop_database(name)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("secantus", marks=pytest.mark.mongo),
        pytest.param("real-mongo", marks=pytest.mark.mongo),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def skip_on(backend: str) -> Callable[[str, str], None]:
    """``skip_on("secantus", why)``: skip one check on one backend, with the reason shown,
    where the test server lacks a feature the production code relies on."""

    def skip(name: str, reason: str) -> None:
        if backend == name:
            pytest.skip(f"{name}: {reason}")

    return skip


@pytest.fixture
async def store(backend: str, make_mongo_store: MongoStoreFactory) -> AsyncIterator[Store]:
    """The composite: every port on one backend, initialised."""
    if backend == "memory":
        built: Store = MemoryStore()
        await built.init()
    else:
        built = await make_mongo_store()  # initialised
    yield built
    await built.close()
