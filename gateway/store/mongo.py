"""The production :class:`~resolvers.store.Store`, on MongoDB through PyMongo's async API.

Written for a real server (a replica set in production). Every invariant is guarded by the
server, never by a read in this process followed by a write:

* stock: one conditional upsert that only lands over an older ``updated_at``;
* pickup holds: one ``find_one_and_update`` whose ``$expr`` filter only matches while the
  free quantity covers the hold, incrementing ``held`` in the same step, in one transaction
  with the hold's own document (and with its release when it finishes);
* loyalty: the ledger's unique ``key`` index makes a replay a ``DuplicateKeyError``, and the
  balance moves with a conditional ``$inc`` (``balance >= -points``), both in one transaction;
* receipts: the unique ``(source, event_id)`` index decides first-seen.

Indexes are created by :meth:`MongoStore.init`; the TTL indexes (webhook receipts, and a late
backstop purge of holds) keep the gateway's own bookkeeping from growing forever.

Every PyMongo failure that escapes is re-raised as :class:`~resolvers.store.StoreError` (the
original chained), so resolvers can map one exception type to ``STORE_UNAVAILABLE`` without
importing the driver.

A client built from a URI gets short timeouts (:class:`MongoTimeouts`): the driver's defaults
(30 s to select a server, no bound on an operation) would hold every request that touches
the store for 30 s during an outage before failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pymongo
from bson import ObjectId
from bson.codec_options import CodecOptions
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    CollectionInvalid,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)
from pymongo.write_concern import WriteConcern

from connectors.records import Source
from gateway.store.timeutil import to_utc, to_utc_or_none, utc_now
from resolvers.model import (
    Hold,
    HoldStatus,
    Identity,
    LedgerEntry,
    LedgerKind,
    LedgerResult,
    LoyaltyAccount,
    MergeLogEntry,
    ProfileDoc,
    StockLevel,
)
from resolvers.store import DeadLetter, ReceiptClaim, StoreError, VersionConflict

Doc = dict[str, Any]

DEFAULT_RECEIPT_RETENTION = timedelta(days=7)
#: Dead letters hold raw webhook bodies (personal data): kept long enough to be looked at and
#: replayed after a fix, then deleted by a TTL index.
DEFAULT_DEAD_LETTER_RETENTION = timedelta(days=14)
#: How long a finished or forgotten hold document outlives its expiry before the TTL monitor
#: deletes it. Long on purpose: the expiry sweeper (``expired_holds`` + ``finish_hold``) is what
#: releases units; the TTL index only stops the collection growing, and deleting a hold that
#: is still active would strand its units in ``held``.
DEFAULT_HOLD_RETENTION = timedelta(days=30)
#: Ledger keys remembered on an account by the non-transactional ledger path (see
#: ``MongoStore._ledger_in_steps``): enough to cover any burst of concurrent writes to one
#: account, small enough to keep the account document a few kilobytes.
RECENT_KEYS = 256

#: Budget of :meth:`MongoStore.init`'s index work as a whole: building a new index on a large
#: existing collection can take longer than any single request should.
INIT_TIMEOUT = 120.0

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: ``IndexOptionsConflict`` / ``IndexKeySpecsConflict``: an index of that name or key exists
#: with other options (here: a changed TTL), which ``collMod`` can adjust in place.
_INDEX_CONFLICT_CODES = frozenset({85, 86})
#: ``IllegalOperation``: what a standalone ``mongod`` answers to a transaction.
_ILLEGAL_OPERATION = 20


def _mapped(
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


def _transactions_unsupported(exc: OperationFailure) -> bool:
    return exc.code == _ILLEGAL_OPERATION or "Transaction numbers" in str(exc)


class _HoldExists(Exception):
    """Aborts a hold transaction: a hold with this id or idempotency key already exists."""


class _Refused(Exception):
    """Aborts a ledger transaction with a business outcome rather than a failure."""

    def __init__(self, result: LedgerResult) -> None:
        super().__init__(result.value)
        self.result = result


# --- document mapping --------------------------------------------------------------------------


def _profile_from(raw: Doc) -> ProfileDoc:
    return ProfileDoc(
        id=raw["_id"],
        body=raw.get("body") or {},
        emails=list(raw.get("emails") or []),
        phones=list(raw.get("phones") or []),
        names=list(raw.get("names") or []),
        refreshed_at=raw.get("refreshed_at"),
        version=int(raw.get("version", 0)),
        retired=bool(raw.get("retired", False)),
    )


def _identity_id(source: Source | str, source_id: str) -> str:
    """Deterministic ``_id``: an upsert on ``_id`` is retried by the server itself when two
    writers race to create the same identity. Source names contain no ``:``, so it is
    unambiguous; the unique ``(source, source_id)`` index states the rule explicitly."""
    return f"{Source(source).value}:{source_id}"


def _identity_from(raw: Doc) -> Identity:
    return Identity(
        source=Source(raw["source"]),
        source_id=raw["source_id"],
        profile_id=raw["profile_id"],
        emails=tuple(raw.get("emails") or ()),
        phones=tuple(raw.get("phones") or ()),
        name=raw.get("name"),
        linked_at=raw.get("linked_at"),
        reason=raw.get("reason"),
        source_updated_at=raw.get("source_updated_at"),
    )


def _merge_from(raw: Doc) -> MergeLogEntry:
    return MergeLogEntry(
        id=raw["_id"],
        action=raw["action"],
        profile_ids=tuple(raw.get("profile_ids") or ()),
        reason=raw.get("reason", ""),
        at=raw["at"],
        actor=raw.get("actor"),
        before=raw.get("before") or {},
        undoes=raw.get("undoes"),
    )


async def _upsert_all(
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


def _link_request(identity: Identity) -> UpdateOne:
    """The upsert of one identity; a dated one only lands over facts that are not newer."""
    updated_at = to_utc_or_none(identity.source_updated_at)
    query: Doc = {"_id": _identity_id(identity.source, identity.source_id)}
    if updated_at is not None:
        query["$or"] = [
            {"source_updated_at": None},
            {"source_updated_at": {"$lte": updated_at}},
        ]
    fields: Doc = {
        "source": Source(identity.source).value,
        "source_id": identity.source_id,
        "profile_id": identity.profile_id,
        "emails": list(identity.emails),
        "phones": list(identity.phones),
        "name": identity.name,
        "linked_at": to_utc_or_none(identity.linked_at),
        "reason": identity.reason,
    }
    if updated_at is not None:
        fields["source_updated_at"] = updated_at
    return UpdateOne(query, {"$set": fields}, upsert=True)


def _stock_from(raw: Doc) -> StockLevel:
    source = raw.get("source")
    return StockLevel(
        sku=raw["sku"],
        location_id=raw["location_id"],
        quantities={name: int(value) for name, value in (raw.get("quantities") or {}).items()},
        updated_at=raw["updated_at"],
        held=int(raw.get("held", 0)),
        source=Source(source) if source else None,
    )


def _hold_from(raw: Doc) -> Hold:
    return Hold(
        id=raw["_id"],
        sku=raw["sku"],
        location_id=raw["location_id"],
        quantity=int(raw["quantity"]),
        status=HoldStatus(raw["status"]),
        created_at=raw["created_at"],
        expires_at=raw["expires_at"],
        customer_id=raw.get("customer_id"),
        idempotency_key=raw.get("idempotency_key"),
    )


def _entry_doc(entry: LedgerEntry) -> Doc:
    return {
        "key": entry.key,
        "account_id": entry.account_id,
        "points": entry.points,
        "kind": entry.kind.value,
        "at": to_utc(entry.at),
        "source": entry.source.value if entry.source else None,
        "channel": entry.channel,
        "location_id": entry.location_id,
        "order_ref": entry.order_ref,
        "meta": dict(entry.meta),
    }


def _entry_from(raw: Doc) -> LedgerEntry:
    source = raw.get("source")
    return LedgerEntry(
        key=raw["key"],
        account_id=raw["account_id"],
        points=int(raw["points"]),
        kind=LedgerKind(raw["kind"]),
        at=raw["at"],
        source=Source(source) if source else None,
        channel=raw.get("channel"),
        location_id=raw.get("location_id"),
        order_ref=raw.get("order_ref"),
        meta=raw.get("meta") or {},
    )


def _account_from(raw: Doc) -> LoyaltyAccount:
    return LoyaltyAccount(
        id=raw["_id"],
        balance=int(raw.get("balance", 0)),
        lifetime_earned=int(raw.get("lifetime_earned", 0)),
        lifetime_redeemed=int(raw.get("lifetime_redeemed", 0)),
        updated_at=raw.get("updated_at"),
    )


def _balance_increments(entry: LedgerEntry) -> Doc:
    """The ``$inc`` of one entry; the same rule as the memory store's ``_moved_account``."""
    increments: Doc = {"balance": entry.points}
    if entry.points > 0:
        increments["lifetime_earned"] = entry.points
    if entry.kind is LedgerKind.REDEEM and entry.points < 0:
        increments["lifetime_redeemed"] = -entry.points
    return increments


#: ``available - safety_stock - held`` on the stock document, as an aggregation expression.
_SELLABLE: Doc = {
    "$subtract": [
        {
            "$subtract": [
                {"$ifNull": ["$quantities.available", 0]},
                {"$ifNull": ["$quantities.safety_stock", 0]},
            ]
        },
        {"$ifNull": ["$held", 0]},
    ]
}


class MongoStore:
    """See the module docstring. Pass an ``AsyncMongoClient`` you own (and close), or a URI,
    in which case the store owns the client, builds it with ``timeouts`` and :meth:`close`
    closes it.

    ``transactions``: ``None`` detects support at :meth:`init` (replica set or mongos), and
    also falls back if the server refuses one later; ``False`` forces the non-transactional
    ledger path (used by the tests to exercise it).
    """

    kind: str = "mongo"

    def __init__(
        self,
        client: AsyncMongoClient[Doc] | str,
        database: str,
        *,
        receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
        hold_retention: timedelta = DEFAULT_HOLD_RETENTION,
        transactions: bool | None = None,
        dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
        timeouts: MongoTimeouts | None = None,
        ping_timeout: float | None = None,
    ) -> None:
        timeouts = timeouts or MongoTimeouts()
        if isinstance(client, str):
            self._client: AsyncMongoClient[Doc] = AsyncMongoClient(
                client, **client_options(timeouts, client)
            )
            self._owns_client = True
        else:
            self._client = client
            self._owns_client = False
        self._db = self._client.get_database(
            database, codec_options=CodecOptions(document_class=dict, tz_aware=True, tzinfo=UTC)
        )
        self._receipt_retention = receipt_retention
        self._hold_retention = hold_retention
        self._transactions = transactions
        self._ping_timeout = ping_timeout if ping_timeout is not None else timeouts.server_selection
        #: Set once :meth:`init` has created the indexes the invariants rely on.
        self._initialised = False
        self._profiles: AsyncCollection[Doc] = self._db["profiles"]
        self._identities: AsyncCollection[Doc] = self._db["identities"]
        self._merge_log: AsyncCollection[Doc] = self._db["merge_log"]
        self._stock: AsyncCollection[Doc] = self._db["stock"]
        self._holds: AsyncCollection[Doc] = self._db["holds"]
        self._ledger: AsyncCollection[Doc] = self._db["ledger"]
        self._accounts: AsyncCollection[Doc] = self._db["accounts"]
        self._receipts: AsyncCollection[Doc] = self._db["webhook_receipts"]
        self._checkpoints: AsyncCollection[Doc] = self._db["checkpoints"]
        self._leases: AsyncCollection[Doc] = self._db["leases"]
        self._tombstones: AsyncCollection[Doc] = self._db["tombstones"]
        self._dead_letter_retention = dead_letter_retention
        self._dead_letters: AsyncCollection[Doc] = self._db["dead_letters"]

    @property
    def database(self) -> AsyncDatabase[Doc]:
        """The database, for what sits beside the store on the same data (change streams
        for the event bus, operational scripts, tests)."""
        return self._db

    # --- lifecycle ----------------------------------------------------------------------------

    @_mapped
    async def init(self) -> None:
        """Create collections and indexes (idempotent), and learn whether the server does
        transactions. Collections are created up front because older servers cannot create
        one implicitly inside a transaction. A ping first, within the ordinary operation
        timeout, so a server that is down fails ``init`` as fast as any call; the index work
        then gets :data:`INIT_TIMEOUT` as a whole."""
        await self._db.command("ping")
        with pymongo.timeout(INIT_TIMEOUT):
            await self._create_indexes()
        self._initialised = True

    async def _create_indexes(self) -> None:
        existing = set(await self._db.list_collection_names())
        for collection in (self._accounts, self._checkpoints):
            if collection.name not in existing:
                with contextlib.suppress(CollectionInvalid):  # another replica was first
                    await self._db.create_collection(collection.name)
        await self._profiles.create_indexes(
            [
                IndexModel([("emails", ASCENDING)], name="emails"),
                IndexModel([("phones", ASCENDING)], name="phones"),
                IndexModel([("names", ASCENDING)], name="names"),
            ]
        )
        await self._identities.create_indexes(
            [
                IndexModel(
                    [("source", ASCENDING), ("source_id", ASCENDING)],
                    unique=True,
                    name="source_source_id",
                ),
                IndexModel([("profile_id", ASCENDING)], name="profile_id"),
                IndexModel([("emails", ASCENDING)], name="emails"),
                IndexModel([("phones", ASCENDING)], name="phones"),
            ]
        )
        await self._merge_log.create_indexes(
            [
                IndexModel(
                    [("profile_ids", ASCENDING), ("at", ASCENDING), ("seq", ASCENDING)],
                    name="profile_ids_at",
                )
            ]
        )
        await self._stock.create_indexes(
            [
                IndexModel(
                    [("sku", ASCENDING), ("location_id", ASCENDING)],
                    unique=True,
                    name="sku_location_id",
                )
            ]
        )
        await self._holds.create_indexes(
            [
                IndexModel(
                    [("status", ASCENDING), ("expires_at", ASCENDING)], name="status_expiry"
                ),
                IndexModel(
                    [("idempotency_key", ASCENDING)],
                    unique=True,
                    # Partial, not sparse-on-null: holds without a key must not collide.
                    partialFilterExpression={"idempotency_key": {"$type": "string"}},
                    name="idempotency_key",
                ),
            ]
        )
        await self._ensure_ttl(self._holds, "purge_at", timedelta(0))
        await self._ledger.create_indexes(
            [
                IndexModel([("key", ASCENDING)], unique=True, name="key"),
                IndexModel(
                    [("account_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                    name="account_id_at",
                ),
            ]
        )
        await self._receipts.create_indexes(
            [
                IndexModel(
                    [("source", ASCENDING), ("event_id", ASCENDING)],
                    unique=True,
                    name="source_event_id",
                )
            ]
        )
        await self._ensure_ttl(self._receipts, "received_at", self._receipt_retention)
        await self._init_dead_letters()
        await self._supports_transactions()

    async def _supports_transactions(self) -> bool:
        """A replica-set member or a mongos does transactions; a standalone does not."""
        if self._transactions is None:
            hello = await self._db.command("hello")
            self._transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
        return self._transactions

    async def _ensure_ttl(
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
            await self._db.command(
                "collMod", collection.name, index={"name": name, "expireAfterSeconds": seconds}
            )

    async def close(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def ping(self) -> bool:
        """Bounded by ``ping_timeout`` so ``/readyz`` answers promptly while the server is down.
        False until :meth:`init` has succeeded: the unique indexes that make receipts and
        ledger keys idempotent must exist before the store takes traffic."""
        if not self._initialised:
            return False
        try:
            await asyncio.wait_for(self._db.command("ping"), self._ping_timeout)
        except Exception:
            return False
        return True

    async def _atomically(
        self,
        work: Callable[[AsyncClientSession], Awaitable[_T]],
        fallback: Callable[[], Awaitable[_T]],
    ) -> _T:
        """Run ``work`` in a transaction (retried by the driver on transient errors such as
        write conflicts), or ``fallback`` where the server has no transactions.

        The transaction as a whole, retries included, gets the client's operation timeout:
        PyMongo bounds each operation in it, but would otherwise repeat a transaction that
        keeps failing (a server that is gone fails with a transient label) for 120 s."""
        if await self._supports_transactions():
            try:
                with pymongo.timeout(self._client.options.timeout):
                    async with self._client.start_session() as session:
                        return await session.with_transaction(
                            work, write_concern=WriteConcern(w="majority")
                        )
            except OperationFailure as exc:
                if not _transactions_unsupported(exc):
                    raise
                self._transactions = False
        return await fallback()

    # --- profiles -----------------------------------------------------------------------------

    @_mapped
    async def get_profiles(
        self, ids: Sequence[str], *, include_retired: bool = False
    ) -> dict[str, ProfileDoc]:
        if not ids:
            return {}
        query: Doc = {"_id": {"$in": list(dict.fromkeys(ids))}}
        if not include_retired:
            query["retired"] = {"$ne": True}
        found = {raw["_id"]: _profile_from(raw) async for raw in self._profiles.find(query)}
        return {profile_id: found[profile_id] for profile_id in ids if profile_id in found}

    @_mapped
    async def put_profile(
        self, doc: ProfileDoc, *, expected_version: int | None = None
    ) -> ProfileDoc:
        """One conditional write per case: an insert guarded by the ``_id`` index for
        "must not exist", a version-matched update otherwise. The body is not read back."""
        fields: Doc = {
            "body": doc.body,
            "emails": list(doc.emails),
            "phones": list(doc.phones),
            "names": list(doc.names),
            "refreshed_at": to_utc_or_none(doc.refreshed_at),
        }

        def stored(version: int) -> ProfileDoc:
            return ProfileDoc(
                id=doc.id,
                body=dict(doc.body),
                emails=list(doc.emails),
                phones=list(doc.phones),
                names=list(doc.names),
                refreshed_at=fields["refreshed_at"],
                version=version,
            )

        if expected_version == 0:
            try:
                await self._profiles.insert_one({"_id": doc.id, **fields, "version": 1})
            except DuplicateKeyError:
                raise VersionConflict(f"profile {doc.id} already exists") from None
            return stored(1)
        query: Doc = {"_id": doc.id}
        if expected_version is not None:
            query["version"] = expected_version
        update = {"$set": fields, "$unset": {"retired": ""}, "$inc": {"version": 1}}
        raw: Doc | None = None
        for attempt in range(2):
            try:
                raw = await self._profiles.find_one_and_update(
                    query,
                    update,
                    projection={"version": True},
                    upsert=expected_version is None,
                    return_document=ReturnDocument.AFTER,
                )
                break
            except DuplicateKeyError:
                if attempt:  # two racing first inserts: the retry updates the winner's doc
                    raise
        if raw is None:
            raise VersionConflict(
                f"profile {doc.id}: version {expected_version} is no longer current"
            )
        return stored(int(raw["version"]))

    @_mapped
    async def delete_profile(self, profile_id: str) -> bool:
        """One upsert turns the document into a stub: personal data and lookup keys are
        unset, the version moves on (a stale rebuild's conditional write then matches
        nothing, and its insert hits the ``_id``)."""
        before = await self._profiles.find_one_and_update(
            {"_id": profile_id},
            {
                "$set": {"retired": True, "body": {}, "refreshed_at": None},
                "$unset": {"emails": "", "phones": "", "names": ""},
                "$inc": {"version": 1},
            },
            projection={"retired": True},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        return before is not None and not before.get("retired", False)

    @_mapped
    async def invalidate_profiles(self, profile_ids: Sequence[str]) -> None:
        unique = list(dict.fromkeys(profile_ids))
        if not unique:
            return
        requests = [
            UpdateOne(
                {"_id": pid},
                {"$inc": {"version": 1}, "$set": {"refreshed_at": None}},
                upsert=True,
            )
            for pid in unique
        ]
        await _upsert_all(self._profiles, requests)

    @_mapped
    async def find_profiles(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        name_prefix: str | None = None,
        limit: int = 10,
    ) -> list[ProfileDoc]:
        """The union of the criteria given. The name prefix becomes an anchored,
        case-sensitive regex, which MongoDB turns into a range scan of the ``names`` index; an
        empty prefix (everyone) or no criterion finds nothing. ``limit <= 0`` finds nothing
        (MongoDB would read ``limit(0)`` as "no limit")."""
        clauses: list[Doc] = []
        if email:
            clauses.append({"emails": email})
        if phone:
            clauses.append({"phones": phone})
        prefix = (name_prefix or "").strip().lower()
        if prefix:
            clauses.append({"names": {"$regex": f"^{re.escape(prefix)}"}})
        if not clauses or limit <= 0:
            return []
        query = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        return [_profile_from(raw) async for raw in self._profiles.find(query, limit=limit)]

    # --- identities and merge log -------------------------------------------------------------

    @_mapped
    async def link_identities(self, identities: Sequence[Identity]) -> None:
        if not identities:
            return
        # A dated identity whose stored facts are newer: its filter matches nothing and the
        # upsert's insert hits the existing ``_id``. That refusal is the point.
        requests = [_link_request(identity) for identity in identities]
        await _upsert_all(self._identities, requests, refusals_expected=True)

    @_mapped
    async def get_identities(
        self, keys: Sequence[tuple[Source, str]]
    ) -> dict[tuple[Source, str], Identity]:
        by_id = {_identity_id(source, source_id): (source, source_id) for source, source_id in keys}
        if not by_id:
            return {}
        return {
            by_id[raw["_id"]]: _identity_from(raw)
            async for raw in self._identities.find({"_id": {"$in": list(by_id)}})
        }

    @_mapped
    async def identities_of(self, profile_ids: Sequence[str]) -> dict[str, list[Identity]]:
        """Every requested id is a key (an empty list when it has no identities)."""
        result: dict[str, list[Identity]] = {profile_id: [] for profile_id in profile_ids}
        if not result:
            return result
        async for raw in self._identities.find({"profile_id": {"$in": list(result)}}):
            result[raw["profile_id"]].append(_identity_from(raw))
        for found in result.values():
            found.sort(key=lambda identity: (identity.source, identity.source_id))
        return result

    @_mapped
    async def find_identities(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = ()
    ) -> list[Identity]:
        clauses: list[Doc] = []
        if emails:
            clauses.append({"emails": {"$in": list(emails)}})
        if phones:
            clauses.append({"phones": {"$in": list(phones)}})
        if not clauses:
            return []
        query = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        found = [_identity_from(raw) async for raw in self._identities.find(query)]
        found.sort(key=lambda identity: (identity.source, identity.source_id))
        return found

    @_mapped
    async def delete_identities(self, profile_id: str) -> int:
        result = await self._identities.delete_many({"profile_id": profile_id})
        return result.deleted_count

    @_mapped
    async def delete_identity(self, source: Source, source_id: str) -> Identity | None:
        raw = await self._identities.find_one_and_delete({"_id": _identity_id(source, source_id)})
        return None if raw is None else _identity_from(raw)

    @_mapped
    async def append_merge_log(self, entry: MergeLogEntry) -> None:
        """A repeated entry id is ignored, so a retried merge does not log twice. ``seq`` (an
        ObjectId, increasing per process) keeps append order among equal timestamps."""
        try:
            await self._merge_log.insert_one(
                {
                    "_id": entry.id,
                    "action": entry.action,
                    "profile_ids": list(entry.profile_ids),
                    "reason": entry.reason,
                    "at": to_utc(entry.at),
                    "actor": entry.actor,
                    "before": dict(entry.before),
                    "undoes": entry.undoes,
                    "seq": ObjectId(),
                }
            )
        except DuplicateKeyError:
            return

    @_mapped
    async def merge_log(self, profile_id: str) -> list[MergeLogEntry]:
        cursor = self._merge_log.find({"profile_ids": profile_id}).sort(
            [("at", ASCENDING), ("seq", ASCENDING)]
        )
        return [_merge_from(raw) async for raw in cursor]

    @_mapped
    async def delete_merge_log(self, profile_id: str) -> int:
        result = await self._merge_log.delete_many({"profile_ids": profile_id})
        return result.deleted_count

    @_mapped
    async def add_tombstones(self, digests: Sequence[str]) -> None:
        """Digests are the ``_id``: adding one twice is a no-op upsert, not an error."""
        unique = list(dict.fromkeys(digests))
        if unique:
            await self._tombstones.bulk_write(
                [
                    UpdateOne({"_id": d}, {"$setOnInsert": {"at": utc_now()}}, upsert=True)
                    for d in unique
                ],
                ordered=False,
            )

    @_mapped
    async def tombstoned(self, digests: Sequence[str]) -> set[str]:
        unique = list(dict.fromkeys(digests))
        if not unique:
            return set()
        return {
            raw["_id"]
            async for raw in self._tombstones.find({"_id": {"$in": unique}}, {"_id": True})
        }

    # --- stock and pickup holds ---------------------------------------------------------------

    @_mapped
    async def apply_stock_level(self, level: StockLevel) -> bool:
        """One conditional upsert: it matches only a stored level that is strictly older, and
        inserts when there is none. Equal timestamps are refused: a redelivered event carries
        nothing new, and ``False`` stops a duplicate change event. ``held`` is only ever
        initialised on insert, never overwritten."""
        updated_at = to_utc(level.updated_at)
        query = {
            "sku": level.sku,
            "location_id": level.location_id,
            "updated_at": {"$lt": updated_at},
        }
        # Per name, so a level that reports only ``available`` (Shopify's webhook) keeps the
        # stored ``on_hand``, ``safety_stock`` and the rest.
        fields: dict[str, Any] = {f"quantities.{k}": v for k, v in level.quantities.items()}
        fields |= {
            "updated_at": updated_at,
            "source": level.source.value if level.source else None,
        }
        try:
            await self._stock.update_one(
                query, {"$set": fields, "$setOnInsert": {"held": 0}}, upsert=True
            )
        except DuplicateKeyError:
            # The filter missed an existing document, so the upsert tried a second insert:
            # either that document is newer (refuse) or a concurrent first insert just won
            # the race with an older level (apply over it). The plain conditional update
            # tells the two apart.
            result = await self._stock.update_one(query, {"$set": fields})
            return result.matched_count == 1
        return True

    @_mapped
    async def get_stock(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[StockLevel]:
        if not skus or (location_ids is not None and not location_ids):
            return []
        query: Doc = {"sku": {"$in": list(dict.fromkeys(skus))}}
        if location_ids is not None:
            query["location_id"] = {"$in": list(dict.fromkeys(location_ids))}
        cursor = self._stock.find(query).sort([("sku", ASCENDING), ("location_id", ASCENDING)])
        return [_stock_from(raw) async for raw in cursor]

    @_mapped
    async def create_hold(self, hold: Hold) -> Hold | None:
        """Reserve on the stock document (the one atomic, conditional step that decides who
        gets the last unit) and record the hold, in one transaction: a failure or a crash
        between the two writes leaves neither. Without transactions (a standalone server)
        the two writes are sequenced, and recording failures give the units back. Shielded
        from cancellation either way. A repeated hold id counts as a retry, like a repeated
        idempotency key."""
        if hold.quantity <= 0:
            raise ValueError("a hold must reserve at least one unit")
        if hold.status is not HoldStatus.ACTIVE:
            raise ValueError("a new hold must be active")
        if hold.idempotency_key is not None:
            existing = await self._holds.find_one({"idempotency_key": hold.idempotency_key})
            if existing is not None:
                return _hold_from(existing)
        existing = await self._holds.find_one({"_id": hold.id})
        if existing is not None:
            return _hold_from(existing)
        return await asyncio.shield(self._reserve_and_record(hold))

    async def _reserve_and_record(self, hold: Hold) -> Hold | None:
        stored = replace(
            hold, created_at=to_utc(hold.created_at), expires_at=to_utc(hold.expires_at)
        )
        document = self._hold_document(stored)

        async def in_transaction(session: AsyncClientSession) -> Hold | None:
            if await self._reserve(stored, session=session) is None:
                return None
            try:
                await self._holds.insert_one(document, session=session)
            except DuplicateKeyError:
                raise _HoldExists from None  # aborts: the reservation is rolled back
            return stored

        try:
            return await self._atomically(
                in_transaction, lambda: self._reserve_then_record(stored, document)
            )
        except _HoldExists:
            return await self._existing_hold(stored)

    async def _reserve(
        self, hold: Hold, *, session: AsyncClientSession | None = None
    ) -> Doc | None:
        """The conditional step that decides who gets the last unit: ``held`` grows only
        while the free quantity covers the hold."""
        reserved: Doc | None = await self._stock.find_one_and_update(
            {
                "sku": hold.sku,
                "location_id": hold.location_id,
                "$expr": {"$gte": [_SELLABLE, hold.quantity]},
            },
            {"$inc": {"held": hold.quantity}},
            projection={"_id": True},
            session=session,
        )
        return reserved

    def _hold_document(self, stored: Hold) -> Doc:
        document: Doc = {
            "_id": stored.id,
            "sku": stored.sku,
            "location_id": stored.location_id,
            "quantity": stored.quantity,
            "status": stored.status.value,
            "created_at": stored.created_at,
            "expires_at": stored.expires_at,
            "customer_id": stored.customer_id,
            "purge_at": stored.expires_at + self._hold_retention,
        }
        if stored.idempotency_key is not None:
            document["idempotency_key"] = stored.idempotency_key
        return document

    async def _existing_hold(self, stored: Hold) -> Hold:
        """The hold that won a race for the same idempotency key (or hold id)."""
        clauses: list[Doc] = [{"_id": stored.id}]
        if stored.idempotency_key is not None:
            clauses.insert(0, {"idempotency_key": stored.idempotency_key})
        existing = await self._holds.find_one({"$or": clauses})
        if existing is None:
            raise StoreError(f"hold {stored.id} collided with a hold that is gone")
        return _hold_from(existing)

    async def _reserve_then_record(self, stored: Hold, document: Doc) -> Hold | None:
        """Holds without transactions (a standalone ``mongod``): reserve, then record, giving
        the units back if recording fails. Shielded from cancellation by the caller; a crash
        of the process between the two writes can still strand the units in ``held``."""
        reserved = await self._reserve(stored)
        if reserved is None:
            return None
        give_back = {"$inc": {"held": -stored.quantity}}
        try:
            await self._holds.insert_one(document)
        except DuplicateKeyError:
            # A concurrent request with the same idempotency key (or hold id) won.
            await self._stock.update_one({"_id": reserved["_id"]}, give_back)
            return await self._existing_hold(stored)
        except PyMongoError:
            # The driver already retried the insert; if it nonetheless landed, keep the units.
            if await self._holds.find_one({"_id": stored.id}, {"_id": True}) is None:
                await self._stock.update_one({"_id": reserved["_id"]}, give_back)
            raise
        return stored

    @_mapped
    async def finish_hold(self, hold_id: str, status: HoldStatus) -> Hold | None:
        """Only the caller whose conditional status change from ``active`` matched returns
        the units, so they come back exactly once however many callers race."""
        if status is HoldStatus.ACTIVE:
            raise ValueError("finish_hold needs a final status, not active")

        async def in_transaction(session: AsyncClientSession) -> Hold | None:
            return await self._finish(hold_id, status, session=session)

        return await asyncio.shield(
            self._atomically(in_transaction, lambda: self._finish(hold_id, status))
        )

    async def _finish(
        self, hold_id: str, status: HoldStatus, *, session: AsyncClientSession | None = None
    ) -> Hold | None:
        raw = await self._holds.find_one_and_update(
            {"_id": hold_id, "status": HoldStatus.ACTIVE.value},
            {"$set": {"status": status.value, "finished_at": utc_now()}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if raw is None:
            return None
        await self._stock.update_one(
            {"sku": raw["sku"], "location_id": raw["location_id"]},
            {"$inc": {"held": -int(raw["quantity"])}},
            session=session,
        )
        return _hold_from(raw)

    @_mapped
    async def get_hold(self, hold_id: str) -> Hold | None:
        raw = await self._holds.find_one({"_id": hold_id})
        return None if raw is None else _hold_from(raw)

    @_mapped
    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        if limit <= 0:
            return []
        cursor = (
            self._holds.find(
                {"status": HoldStatus.ACTIVE.value, "expires_at": {"$lte": to_utc(now)}}
            )
            .sort([("expires_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_hold_from(raw) async for raw in cursor]

    # --- loyalty ledger -------------------------------------------------------------------------

    @_mapped
    async def apply_ledger_entry(self, entry: LedgerEntry) -> tuple[LedgerResult, LoyaltyAccount]:
        async def in_transaction(session: AsyncClientSession) -> LoyaltyAccount:
            try:
                await self._ledger.insert_one(_entry_doc(entry), session=session)
            except DuplicateKeyError:
                raise _Refused(LedgerResult.DUPLICATE) from None
            moved = await self._move_balance(entry, session=session)
            if moved is None:
                raise _Refused(LedgerResult.INSUFFICIENT_BALANCE)
            return moved

        try:
            moved = await self._atomically(in_transaction, lambda: self._ledger_in_steps(entry))
        except _Refused as refused:
            return refused.result, await self._account_or_empty(entry.account_id)
        return LedgerResult.APPLIED, moved

    async def _move_balance(
        self, entry: LedgerEntry, *, session: AsyncClientSession | None = None, claim: bool = False
    ) -> LoyaltyAccount | None:
        """The conditional ``$inc``: a negative entry only matches while the balance covers
        it; a non-negative one creates the account if needed. With ``claim`` (the
        non-transactional path) the same write records the key in the account's
        ``recent_keys`` window, and the filter refuses an account whose window holds it."""
        query: Doc = {"_id": entry.account_id}
        update: Doc = {"$inc": _balance_increments(entry), "$set": {"updated_at": utc_now()}}
        if claim:
            query["recent_keys"] = {"$ne": entry.key}
            update["$push"] = {"recent_keys": {"$each": [entry.key], "$slice": -RECENT_KEYS}}
        if entry.points < 0:
            query["balance"] = {"$gte": -entry.points}
        for attempt in range(2):
            try:
                raw = await self._accounts.find_one_and_update(
                    query,
                    update,
                    upsert=entry.points >= 0 and attempt == 0,
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
                return None if raw is None else _account_from(raw)
            except DuplicateKeyError:
                # The upsert met an existing account the filter excluded (key already in the
                # window), or a concurrent creation won: one more try without upsert tells.
                if attempt or session is not None:
                    raise
        return None

    async def _ledger_in_steps(self, entry: LedgerEntry) -> LoyaltyAccount:
        """The ledger without transactions (a standalone ``mongod``), still idempotent and
        never negative, at the price of a short window where the balance has moved but the
        entry is not yet visible:

        1. an existing entry with the key means a replay;
        2. the balance moves in one conditional write on the account that also appends the
           key to the account's ``recent_keys`` (the last ``RECENT_KEYS`` keys), and refuses
           if the key is already there: of any number of racing calls, one moves the balance;
        3. the entry is inserted (a duplicate here means a racing call wrote it first).

        A call that finds its key in the window at step 2 (a racing call, or an earlier
        attempt that crashed after moving the balance) writes the entry if it is missing and
        reports ``DUPLICATE``. The window is what makes step 1's read safe without a
        transaction; a replay could only apply twice if ``RECENT_KEYS`` other entries for the
        same account landed between its steps 1 and 2, or if a crashed attempt is retried
        only after that many.
        """
        if await self._ledger.find_one({"key": entry.key}, {"_id": True}) is not None:
            raise _Refused(LedgerResult.DUPLICATE)
        moved = await self._move_balance(entry, claim=True)
        if moved is None:
            claimed = await self._accounts.find_one(
                {"_id": entry.account_id, "recent_keys": entry.key}, {"_id": True}
            )
            if claimed is None:
                raise _Refused(LedgerResult.INSUFFICIENT_BALANCE)
            await self._insert_entry_once(entry)
            raise _Refused(LedgerResult.DUPLICATE)
        await self._insert_entry_once(entry)
        return moved

    async def _insert_entry_once(self, entry: LedgerEntry) -> None:
        with contextlib.suppress(DuplicateKeyError):  # a racing call wrote it
            await self._ledger.insert_one(_entry_doc(entry))

    async def _account_or_empty(self, account_id: str) -> LoyaltyAccount:
        raw = await self._accounts.find_one({"_id": account_id})
        return LoyaltyAccount(id=account_id) if raw is None else _account_from(raw)

    @_mapped
    async def get_account(self, account_id: str) -> LoyaltyAccount | None:
        raw = await self._accounts.find_one({"_id": account_id})
        return None if raw is None else _account_from(raw)

    @_mapped
    async def ledger_entries(self, account_id: str, limit: int = 100) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        cursor = (
            self._ledger.find({"account_id": account_id})
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_entry_from(raw) async for raw in cursor]

    @_mapped
    async def anonymise_account(self, account_id: str, anonymous_id: str) -> int:
        """Folds the account into ``anonymous_id`` (adding to it if it exists, so a shared
        anonymous bucket works) in one transaction. Without transactions the steps run in
        order and a re-run finishes an interrupted one; the account summary is removed before
        it is added to the anonymous one, so an interruption there loses the erased person's
        totals (the re-keyed ledger still has every movement) rather than counting them
        twice."""
        if account_id == anonymous_id:
            raise ValueError("anonymous id must differ from the account id")

        async def work(session: AsyncClientSession | None) -> int:
            result = await self._ledger.update_many(
                {"account_id": account_id},
                {"$set": {"account_id": anonymous_id, "meta": {}}},
                session=session,
            )
            old = await self._accounts.find_one_and_delete({"_id": account_id}, session=session)
            if old is not None:
                await self._accounts.update_one(
                    {"_id": anonymous_id},
                    {
                        "$inc": {
                            "balance": int(old.get("balance", 0)),
                            "lifetime_earned": int(old.get("lifetime_earned", 0)),
                            "lifetime_redeemed": int(old.get("lifetime_redeemed", 0)),
                        },
                        "$set": {"updated_at": utc_now()},
                    },
                    upsert=True,
                    session=session,
                )
            return result.modified_count

        return await self._atomically(work, lambda: work(None))

    # --- webhooks and sync ----------------------------------------------------------------------

    @_mapped
    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
        try:
            await self._receipts.insert_one(
                {
                    "source": Source(source).value,
                    "event_id": event_id,
                    "received_at": to_utc(received_at),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    @_mapped
    async def release_receipt(self, source: Source, event_id: str) -> None:
        await self._receipts.delete_one({"source": Source(source).value, "event_id": event_id})

    @_mapped
    async def get_checkpoint(self, name: str) -> Mapping[str, Any] | None:
        raw = await self._checkpoints.find_one({"_id": name})
        return None if raw is None else dict(raw.get("value") or {})

    @_mapped
    async def set_checkpoint(self, name: str, value: Mapping[str, Any]) -> None:
        await self._checkpoints.replace_one({"_id": name}, {"value": dict(value)}, upsert=True)

    # --- webhook claims and dead letters ------------------------------------------------------

    async def _init_dead_letters(self) -> None:
        await self._dead_letters.create_indexes(
            [
                IndexModel(
                    [("source", ASCENDING), ("body_digest", ASCENDING)],
                    unique=True,
                    name="source_body_digest",
                ),
                IndexModel([("source", ASCENDING), ("received_at", DESCENDING)], name="source_at"),
            ]
        )
        await self._ensure_ttl(self._dead_letters, "received_at", self._dead_letter_retention)

    @_mapped
    async def claim_receipt(
        self, source: Source, key: str, now: datetime, *, lease: timedelta
    ) -> ReceiptClaim:
        """One conditional upsert: it matches only a pending claim older than the lease
        (taking it over); otherwise it inserts, and the unique ``(source, event_id)`` index
        refuses the insert when the receipt exists. The read after a refusal only tells a
        finished receipt from one in flight; it decides nothing."""
        at = to_utc(now)
        ident = {"source": Source(source).value, "event_id": key}
        try:
            await self._receipts.update_one(
                {**ident, "pending": True, "claimed_at": {"$lte": at - lease}},
                {"$set": {"received_at": at, "claimed_at": at}},
                upsert=True,
            )
        except DuplicateKeyError:
            found = await self._receipts.find_one(ident, {"pending": 1})
            if found is not None and not found.get("pending"):
                return ReceiptClaim.DUPLICATE
            # Pending, or released a moment ago: either way the vendor should come back.
            return ReceiptClaim.IN_FLIGHT
        return ReceiptClaim.CLAIMED

    @_mapped
    async def complete_receipt(self, source: Source, key: str) -> None:
        await self._receipts.update_one(
            {"source": Source(source).value, "event_id": key},
            {"$set": {"pending": False}, "$unset": {"claimed_at": ""}},
        )

    @_mapped
    async def put_dead_letter(self, letter: DeadLetter) -> bool:
        """An upsert on the unique ``(source, body_digest)`` index; two concurrent first
        deliveries of one body store one letter (the loser's insert becomes an update)."""
        ident = {"source": Source(letter.source).value, "body_digest": letter.body_digest}
        update: Doc = {
            "$setOnInsert": {
                "received_at": to_utc(letter.received_at),
                "body": letter.body,
                "topic": letter.topic,
                "event_id": letter.event_id,
                "headers": [[name, value] for name, value in letter.headers.items()],
            },
            "$set": {"reason": letter.reason, "last_received_at": utc_now()},
            "$inc": {"deliveries": 1},
        }
        try:
            result = await self._dead_letters.update_one(ident, update, upsert=True)
        except DuplicateKeyError:
            await self._dead_letters.update_one(ident, update)
            return False
        return result.upserted_id is not None

    @_mapped
    async def dead_letters(
        self, source: Source | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        query: Doc = {} if source is None else {"source": Source(source).value}
        cursor = self._dead_letters.find(query).sort("received_at", DESCENDING).limit(limit)
        return [_dead_letter_from(raw) async for raw in cursor]

    @_mapped
    async def dead_letter(self, source: Source, body_digest: str) -> DeadLetter | None:
        raw = await self._dead_letters.find_one(
            {"source": Source(source).value, "body_digest": body_digest}
        )
        return None if raw is None else _dead_letter_from(raw)

    @_mapped
    async def count_dead_letters(self) -> int:
        return await self._dead_letters.count_documents({})

    @_mapped
    async def delete_dead_letter(self, source: Source, body_digest: str) -> bool:
        result = await self._dead_letters.delete_one(
            {"source": Source(source).value, "body_digest": body_digest}
        )
        return result.deleted_count > 0

    @_mapped
    async def take_lease(self, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
        """One conditional upsert: the filter matches only a lease that is ours or expired;
        when another holder's unexpired lease exists the filter misses, the upsert tries to
        insert the same ``_id`` and the unique ``_id`` index refuses it."""
        at = to_utc(now)
        try:
            await self._leases.update_one(
                {"_id": name, "$or": [{"holder": holder}, {"until": {"$lte": at}}]},
                {"$set": {"holder": holder, "until": at + ttl}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    @_mapped
    async def release_lease(self, name: str, holder: str) -> None:
        await self._leases.delete_one({"_id": name, "holder": holder})


def _dead_letter_from(raw: Doc) -> DeadLetter:
    return DeadLetter(
        source=Source(raw["source"]),
        body_digest=raw["body_digest"],
        reason=raw.get("reason") or "",
        received_at=to_utc(raw["received_at"]),
        body=bytes(raw.get("body") or b""),
        topic=raw.get("topic"),
        event_id=raw.get("event_id"),
        headers={str(name): str(value) for name, value in raw.get("headers") or ()},
        deliveries=int(raw.get("deliveries") or 1),
    )
