"""What every MongoDB port shares: the client and database, error mapping, timeouts, the
transaction helper, index helpers, and the replica-set requirement.

Written for a real server, a replica set: the ports that move two documents together (a
hold and its stock row's ``held``; a ledger entry and its account) do it in one transaction,
and the event bus will follow change streams; both need a replica set (or a mongos). A
standalone ``mongod`` is refused at :meth:`MongoBackend.require_replica_set`, at start-up,
rather than served by weaker code paths.

Every PyMongo failure that escapes a port is re-raised as
:class:`~resolvers.store.StoreError` (the original chained, see :func:`mapped`), so
resolvers can map one exception type to ``STORE_UNAVAILABLE`` without importing the driver.

A client built from a URI gets short timeouts (:class:`MongoTimeouts`): the driver's defaults
(30 s to select a server, no bound on an operation) would hold every request that touches
the store for 30 s during an outage before failing.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, ParamSpec, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pymongo
from bson.codec_options import CodecOptions
from pymongo import ASCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure, PyMongoError
from pymongo.write_concern import WriteConcern

from resolvers.store import StoreError

Doc = dict[str, Any]

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: ``IndexOptionsConflict`` / ``IndexKeySpecsConflict``: an index of that name or key exists
#: with other options (here: a changed TTL), which ``collMod`` can adjust in place.
_INDEX_CONFLICT_CODES = frozenset({85, 86})


def mapped(
    func: Callable[_P, Coroutine[Any, Any, _T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """Turn driver failures into :class:`StoreError` so callers never import PyMongo. The
    message names the operation and the error class only: driver messages can quote document
    values (emails, phones) that must not reach logs or clients."""

    @functools.wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await func(*args, **kwargs)
        except StoreError:
            raise
        except PyMongoError as exc:
            raise StoreError(f"mongo {func.__name__} failed: {type(exc).__name__}") from exc

    return wrapper


class ReplicaSetRequired(Exception):
    """The server is a standalone ``mongod``. Not a :class:`StoreError`: it is not an
    outage, and no retry will turn a standalone into a replica set, so the gateway refuses
    to start on one."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"MongoDB at {where} is a standalone server; Omnigate needs a replica set "
            "(transactions, change streams): start mongod with --replSet and rs.initiate(), "
            "or use Atlas"
        )


def is_replica_set(hello: Doc) -> bool:
    """What ``hello`` says of a server that does transactions: a replica-set member names
    its set; a mongos answers ``msg: isdbgrid``."""
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


@dataclass(frozen=True, slots=True)
class MongoTimeouts:
    """Seconds the driver may spend, for a client the store builds from a URI.

    ``operation`` is PyMongo's client-side operation timeout (``timeoutMS``): one bound on
    everything an operation does (server selection, connection checkout, the round trips,
    the driver's own retries, a transaction's retries), which replaces the older
    ``socketTimeoutMS``/``maxTimeMS`` knobs. While an operation runs, PyMongo spends what is
    left of it on server selection, so it is also how soon a call fails when the server is
    down. ``server_selection`` bounds selection for the driver's work outside an operation,
    and ``connect`` bounds opening one connection.
    """

    server_selection: float = 2.0
    connect: float = 2.0
    operation: float = 2.0


#: The URI option behind each field of :class:`MongoTimeouts` (lower case, as URIs compare).
_TIMEOUT_OPTIONS = {
    "server_selection": "serverSelectionTimeoutMS",
    "connect": "connectTimeoutMS",
    "operation": "timeoutMS",
}


def client_options(timeouts: MongoTimeouts, uri: str | None = None) -> dict[str, Any]:
    """``AsyncMongoClient`` keyword arguments for ``timeouts``, in milliseconds. An option the
    URI already sets is left out, so a connection string that names one keeps it."""
    given = {key.lower() for key, _ in parse_qsl(urlsplit(uri).query)} if uri else set()
    options: dict[str, Any] = {}
    for field, option in _TIMEOUT_OPTIONS.items():
        if option.lower() not in given:
            options[option] = round(getattr(timeouts, field) * 1000)
    return options


class MongoPort(Protocol):
    """What :class:`~gateway.store.mongo.MongoStore` asks of each port's implementation."""

    async def prepare(self) -> None:
        """Create the port's collections and indexes; idempotent."""


class MongoBackend:
    """The client and database the ports share. Pass an ``AsyncMongoClient`` you own (and
    close), or a URI, in which case the backend owns the client, builds it with
    ``timeouts`` and :meth:`close` closes it."""

    def __init__(
        self,
        client: AsyncMongoClient[Doc] | str,
        database: str,
        *,
        timeouts: MongoTimeouts | None = None,
    ) -> None:
        timeouts = timeouts or MongoTimeouts()
        if isinstance(client, str):
            self.client: AsyncMongoClient[Doc] = AsyncMongoClient(
                client, **client_options(timeouts, client)
            )
            self._owns_client = True
        else:
            self.client = client
            self._owns_client = False
        self.db: AsyncDatabase[Doc] = self.client.get_database(
            database, codec_options=CodecOptions(document_class=dict, tz_aware=True, tzinfo=UTC)
        )

    def collection(self, name: str) -> AsyncCollection[Doc]:
        return self.db[name]

    async def close(self) -> None:
        if self._owns_client:
            await self.client.close()

    async def require_replica_set(self) -> None:
        """Raise :class:`ReplicaSetRequired` unless the server does transactions."""
        hello: Doc = await self.db.command("hello")
        if not is_replica_set(hello):
            where = ", ".join(f"{host}:{port}" for host, port in sorted(self.client.nodes))
            raise ReplicaSetRequired(where or "the configured address")

    async def transaction(self, work: Callable[[AsyncClientSession], Awaitable[_T]]) -> _T:
        """Run ``work`` in a transaction, retried by the driver on transient errors such as
        write conflicts, with majority write concern.

        The transaction as a whole, retries included, gets the client's operation timeout:
        PyMongo bounds each operation in it, but would otherwise repeat a transaction that
        keeps failing (a server that is gone fails with a transient label) for 120 s."""
        with pymongo.timeout(self.client.options.timeout):
            async with self.client.start_session() as session:
                return await session.with_transaction(
                    work, write_concern=WriteConcern(w="majority")
                )

    async def ensure_collections(self, *names: str) -> None:
        """Create collections up front: older servers cannot create one implicitly inside a
        transaction."""
        existing = set(await self.db.list_collection_names())
        for name in names:
            if name not in existing:
                with contextlib.suppress(CollectionInvalid):  # another replica was first
                    await self.db.create_collection(name)

    async def ensure_ttl(
        self, collection: AsyncCollection[Doc], field: str, after: timedelta
    ) -> None:
        """Create the TTL index, or retune it in place with ``collMod`` when the retention
        setting changed (``create_index`` refuses to change options of an existing index)."""
        name = f"{field}_ttl"
        seconds = int(after.total_seconds())
        try:
            await collection.create_index(
                [(field, ASCENDING)], name=name, expireAfterSeconds=seconds
            )
        except OperationFailure as exc:
            if exc.code not in _INDEX_CONFLICT_CODES:
                raise
            await self.db.command(
                "collMod", collection.name, index={"name": name, "expireAfterSeconds": seconds}
            )


async def upsert_all(
    collection: AsyncCollection[Doc],
    requests: list[UpdateOne],
    *,
    refusals_expected: bool = False,
) -> None:
    """Unordered upserts keyed by ``_id``. A duplicate ``_id`` on the first pass is an insert
    that raced another writer's first insert: those requests get one more pass, which
    updates the document the other created. A duplicate on that second pass can only be a
    conditional upsert whose filter refused the stored document, which is fine when
    ``refusals_expected``."""
    for attempt in range(2):
        try:
            await collection.bulk_write(requests, ordered=False)
            return
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != 11000 for e in errors):
                raise
            if attempt:
                if refusals_expected:
                    return
                raise
            requests = [requests[e["index"]] for e in errors]
