"""MongoDB must be a replica set (transactions, change streams): a standalone server is
refused at start-up with a message that says what to do, and the gateway does not start.

SecantusDB reports itself as a replica set, so the standalone is a test double of the one
command that tells: ``hello`` answers as a standalone ``mongod`` does (no ``setName``), every
other command reaches the server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gateway.cli import _serve, main
from gateway.store import MongoStore, ReplicaSetRequired, start_store
from gateway.store.mongo.base import is_replica_set
from resolvers.store import StoreError
from tests.store.backends import fresh_database_name
from tests.store.builders import Doc
from tests.support import make_settings

#: What a standalone ``mongod`` answers to ``hello`` (no ``setName``, no ``msg: isdbgrid``).
STANDALONE_HELLO: Doc = {
    "isWritablePrimary": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxWireVersion": 21,
    "minWireVersion": 0,
    "ok": 1.0,
}


def test_what_hello_says_of_a_server_that_does_transactions() -> None:
    assert is_replica_set({"isWritablePrimary": True, "setName": "rs0", "ok": 1.0})
    assert is_replica_set({"isWritablePrimary": True, "msg": "isdbgrid", "ok": 1.0})  # mongos
    assert not is_replica_set(STANDALONE_HELLO)
    assert not is_replica_set({"setName": "", "ok": 1.0})


@pytest.fixture
def standalone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every database's ``hello`` answers as a standalone server's would."""
    command = AsyncDatabase.command

    async def answer(self: AsyncDatabase[Doc], name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "hello":
            return dict(STANDALONE_HELLO)
        return await command(self, name, *args, **kwargs)

    monkeypatch.setattr(AsyncDatabase, "command", answer)


@pytest.mark.mongo
async def test_the_secantus_test_server_is_a_replica_set(secantus_uri: str) -> None:
    """Without the double, the contract suites run on a server that does transactions."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(secantus_uri)
    try:
        assert is_replica_set(await client.admin.command("hello"))
    finally:
        await client.close()


@pytest.mark.mongo
@pytest.mark.usefixtures("standalone")
async def test_a_standalone_server_is_refused_at_init(secantus_uri: str) -> None:
    store = MongoStore(secantus_uri, fresh_database_name())
    try:
        with pytest.raises(ReplicaSetRequired) as raised:
            await store.init()
        message = str(raised.value)
        host, port = secantus_uri.removeprefix("mongodb://").split("/")[0].split(":")
        assert message == (
            f"MongoDB at {host}:{port} is a standalone server; Omnigate needs a replica set "
            "(transactions, change streams): start mongod with --replSet and rs.initiate(), "
            "or use Atlas"
        )
        # Not an outage: nothing the gateway would retry, or answer STORE_UNAVAILABLE for.
        assert not isinstance(raised.value, StoreError)
        assert await store.ping() is False
        # Refused before any collection or index was made.
        assert await store.database.list_collection_names() == []
    finally:
        await store.close()


@pytest.mark.mongo
@pytest.mark.usefixtures("standalone")
async def test_start_store_fails_start_up_on_a_standalone_server(
    secantus_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MongoStore(secantus_uri, fresh_database_name())
    caplog.set_level(logging.INFO, logger="omnigate.store")
    ready = asyncio.Event()
    try:
        with pytest.raises(ReplicaSetRequired):
            await start_store(store, ready=ready)
    finally:
        await store.close()
    assert not ready.is_set()
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "is a standalone server" in record.getMessage()
    assert "--replSet" in record.getMessage()


@pytest.mark.mongo
@pytest.mark.usefixtures("standalone")
async def test_omnigate_serve_does_not_start_on_a_standalone_server(
    secantus_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's lifespan fails, and uvicorn exits (status 3, its start-up failure) before
    serving anything, with the reason logged."""
    settings = make_settings(
        mongodb_uri=secantus_uri,
        mongodb_database=fresh_database_name(),
        host="127.0.0.1",
        port=0,
        tokens={"staff-token": {"role": "staff", "locations": ["*"]}},
    )
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit) as exited:
        await _serve(settings)
    assert exited.value.code == 3
    assert "Omnigate needs a replica set" in caplog.text


@pytest.mark.mongo
@pytest.mark.usefixtures("standalone")
def test_the_cli_says_what_to_do_on_a_standalone_server(
    secantus_uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONGODB_URI", secantus_uri)
    monkeypatch.setenv("OMNIGATE_MONGODB_DATABASE", fresh_database_name())
    monkeypatch.setattr("gateway.cli.configure_logging", lambda *args: None)  # pytest's own
    assert main(["webhooks", "dead-letters"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omnigate: MongoDB at 127.0.0.1:")
    assert "is a standalone server; Omnigate needs a replica set" in err
    assert "Traceback" not in err


class _Unreachable:
    """A store whose server is down for the first ``outages`` inits, then answers as a
    standalone: what the gateway's background retry meets when the database comes back
    misconfigured."""

    kind = "mongo"

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.inits = 0

    async def init(self) -> None:
        self.inits += 1
        if self.inits <= self.outages:
            raise StoreError("mongo init failed: ServerSelectionTimeoutError")
        raise ReplicaSetRequired("127.0.0.1:27017")


async def test_the_retry_stops_when_the_server_turns_out_to_be_standalone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _Unreachable(outages=2)
    caplog.set_level(logging.INFO, logger="omnigate.store")
    ready = asyncio.Event()
    retry = await start_store(store, retry_every=0, ready=ready)  # type: ignore[arg-type]
    assert retry is not None
    await retry  # returns: a standalone will not become a replica set by waiting
    assert store.inits == 3
    assert not ready.is_set()
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "not retrying" in record.getMessage()
