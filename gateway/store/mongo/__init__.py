"""The production :class:`~resolvers.store.Store`, on MongoDB through PyMongo's async API.

One module per port (:mod:`.profiles`, :mod:`.identities`, :mod:`.inventory`, :mod:`.catalog`,
:mod:`.ledger`, :mod:`.codes`, :mod:`.webhooks`, :mod:`.checkpoints`, :mod:`.leases`,
:mod:`.segments`, :mod:`.saved_segments`), each with the indexes its invariants rely on,
over one shared client (:mod:`.base`). Every invariant is guarded by the server, never by a
read in this process followed by a write; where two documents move together it is one
transaction, which is why a replica set is required (:meth:`MongoStore.init` refuses a
standalone server).

Indexes are created by :meth:`MongoStore.init`; the TTL indexes (webhook receipts, dead
letters, and a late backstop purge of holds) keep the gateway's own bookkeeping from growing
forever.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pymongo
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gateway.store.mongo.base import (
    Doc,
    MongoBackend,
    MongoPort,
    MongoTimeouts,
    ReplicaSetRequired,
    client_options,
    mapped,
)
from gateway.store.mongo.catalog import MongoCatalog
from gateway.store.mongo.checkpoints import MongoCheckpoints
from gateway.store.mongo.codes import MongoCodes
from gateway.store.mongo.identities import MongoIdentities
from gateway.store.mongo.inventory import MongoInventory
from gateway.store.mongo.leases import MongoLeases
from gateway.store.mongo.ledger import MongoLedger
from gateway.store.mongo.profiles import MongoProfiles
from gateway.store.mongo.saved_segments import MongoSavedSegments
from gateway.store.mongo.segments import MongoSegments
from gateway.store.mongo.webhooks import MongoWebhooks
from gateway.store.retention import (
    DEFAULT_DEAD_LETTER_RETENTION,
    DEFAULT_HOLD_RETENTION,
    DEFAULT_RECEIPT_RETENTION,
)

__all__ = [
    "INIT_TIMEOUT",
    "MongoBackend",
    "MongoCatalog",
    "MongoCheckpoints",
    "MongoCodes",
    "MongoIdentities",
    "MongoInventory",
    "MongoLeases",
    "MongoLedger",
    "MongoProfiles",
    "MongoSavedSegments",
    "MongoSegments",
    "MongoStore",
    "MongoTimeouts",
    "MongoWebhooks",
    "ReplicaSetRequired",
    "client_options",
]

#: Budget of :meth:`MongoStore.init`'s index work as a whole: building a new index on a large
#: existing collection can take longer than any single request should.
INIT_TIMEOUT = 120.0


class MongoStore:
    """See the module docstring. Pass an ``AsyncMongoClient`` you own (and close), or a URI,
    in which case the store owns the client, builds it with ``timeouts`` and :meth:`close`
    closes it."""

    kind: str = "mongo"

    def __init__(
        self,
        client: AsyncMongoClient[Doc] | str,
        database: str,
        *,
        receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
        hold_retention: timedelta = DEFAULT_HOLD_RETENTION,
        dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
        timeouts: MongoTimeouts | None = None,
        ping_timeout: float | None = None,
    ) -> None:
        timeouts = timeouts or MongoTimeouts()
        self._backend = MongoBackend(client, database, timeouts=timeouts)
        self._ping_timeout = ping_timeout if ping_timeout is not None else timeouts.server_selection
        #: Set once :meth:`init` has created the indexes the invariants rely on.
        self._initialised = False
        self.profiles = MongoProfiles(self._backend)
        self.identities = MongoIdentities(self._backend)
        self.inventory = MongoInventory(self._backend, hold_retention=hold_retention)
        self.catalog = MongoCatalog(self._backend)
        self.ledger = MongoLedger(self._backend)
        self.codes = MongoCodes(self._backend)
        self.webhooks = MongoWebhooks(
            self._backend,
            receipt_retention=receipt_retention,
            dead_letter_retention=dead_letter_retention,
        )
        self.checkpoints = MongoCheckpoints(self._backend)
        self.leases = MongoLeases(self._backend)
        self.segments = MongoSegments(self._backend)
        self.saved_segments = MongoSavedSegments(self._backend)

    @property
    def database(self) -> AsyncDatabase[Doc]:
        """The database, for what sits beside the store on the same data (change streams
        for the event bus, operational scripts, tests)."""
        return self._backend.db

    def _ports(self) -> tuple[MongoPort, ...]:
        return (
            self.profiles,
            self.identities,
            self.inventory,
            self.catalog,
            self.ledger,
            self.codes,
            self.webhooks,
            self.checkpoints,
            self.leases,
            self.segments,
            self.saved_segments,
        )

    @mapped
    async def init(self) -> None:
        """Refuse a standalone server, then create every port's collections and indexes
        (idempotent). A ping first, within the ordinary operation timeout, so a server that
        is down fails ``init`` as fast as any call (a :class:`~resolvers.store.StoreError`,
        which the gateway retries); a standalone server raises :class:`ReplicaSetRequired`,
        which it does not. The index work then gets :data:`INIT_TIMEOUT` as a whole."""
        await self._backend.db.command("ping")
        await self._backend.require_replica_set()
        with pymongo.timeout(INIT_TIMEOUT):
            for port in self._ports():
                await port.prepare()
        self._initialised = True

    async def close(self) -> None:
        await self._backend.close()

    async def ping(self) -> bool:
        """Bounded by ``ping_timeout`` so ``/readyz`` answers promptly while the server is down.
        False until :meth:`init` has succeeded: the unique indexes that make receipts and
        ledger keys idempotent must exist before the store takes traffic."""
        if not self._initialised:
            return False
        try:
            await asyncio.wait_for(self._backend.db.command("ping"), self._ping_timeout)
        except Exception:
            return False
        return True
