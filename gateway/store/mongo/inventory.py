"""Stock levels and pickup holds on MongoDB (collections ``stock`` and ``holds``), each
stock write journalled in the same transaction (:mod:`.stock_journal`).

* stock: one conditional upsert that only lands over an older ``updated_at``;
* holds: one ``find_one_and_update`` whose ``$expr`` filter only matches while the free
  quantity covers the hold, incrementing ``held`` in the same step, in one transaction with
  the hold's own document (and with its release when it finishes).
* every write to a stock document ``$inc``s its ``version``.

A TTL index on ``purge_at``, set only when a hold finishes (``finish_hold``), keeps finished
holds from growing the collection forever; an unfinished hold has none, so the TTL monitor
can never delete a hold whose units are still in ``held``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from gateway.store.mongo import inventory_figures
from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.mongo.hold_queries import HoldQueries, hold_from
from gateway.store.mongo.stock_journal import DEFAULT_JOURNAL_RETENTION, StockJournal, stock_from
from gateway.store.retention import DEFAULT_HOLD_RETENTION
from gateway.store.timeutil import to_utc, utc_now
from resolvers.model import (
    HOLD_CAUSES,
    Hold,
    HoldStatus,
    HoldWrite,
    StockChange,
    StockLevel,
    finishes_from,
)
from resolvers.store import StoreError
from resolvers.store.inventory_figures import HoldFigures, SkuStock

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


_T = TypeVar("_T")


class _HoldExists(Exception):
    """Aborts a hold transaction: a hold with this id or idempotency key already exists."""


class MongoInventory(HoldQueries):
    """The :class:`~resolvers.store.InventoryStore` on MongoDB. The stock document's
    quantities come from upstream; its ``held`` is written only by holds."""

    def __init__(
        self,
        backend: MongoBackend,
        *,
        hold_retention: timedelta = DEFAULT_HOLD_RETENTION,
        journal_retention: timedelta = DEFAULT_JOURNAL_RETENTION,
    ) -> None:
        self._backend = backend
        self._hold_retention = hold_retention
        self._stock = backend.collection("stock")
        self._holds = backend.collection("holds")
        self.journal = StockJournal(backend, retention=journal_retention)
        #: Every journalled write increments the one journal counter, so two of them in one
        #: transaction's lifetime conflict and one is aborted and retried. Queued here, a
        #: process's writes wait their turn instead (hundreds of shoppers racing for the last
        #: units thrash otherwise); only writes from other processes can still conflict.
        self._writes = asyncio.Lock()

    async def prepare(self) -> None:
        await self._backend.ensure_collections("stock", "holds")
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
                    [("status", ASCENDING), ("completed_at", ASCENDING)],
                    name="status_completed_at",
                ),
                IndexModel(
                    [("sku", ASCENDING), ("location_id", ASCENDING), ("status", ASCENDING)],
                    name="sku_location_status",
                ),
                IndexModel(
                    [("customer_id", ASCENDING), ("created_at", ASCENDING)],
                    name="customer_created_at",
                ),
                IndexModel(
                    [("idempotency_key", ASCENDING)],
                    unique=True,
                    # Partial, not sparse-on-null: holds without a key must not collide.
                    partialFilterExpression={"idempotency_key": {"$type": "string"}},
                    name="idempotency_key",
                ),
                *inventory_figures.HOLD_INDEXES,
            ]
        )
        await self._backend.ensure_ttl(self._holds, "purge_at", timedelta(0))
        await self.journal.prepare()

    async def _journalled(
        self, work: Callable[[AsyncClientSession], Awaitable[Doc | None]], cause: str
    ) -> StockChange | None:
        """Run a stock write and journal the document it returns, in one transaction."""

        async def in_transaction(session: AsyncClientSession) -> StockChange | None:
            raw = await work(session)
            return None if raw is None else await self.journal.append(raw, cause, session)

        return await asyncio.shield(self._serialised(in_transaction))

    async def _serialised(self, work: Callable[[AsyncClientSession], Awaitable[_T]]) -> _T:
        """A journalled transaction, one at a time in this process (see ``_writes``)."""
        async with self._writes:
            return await self._backend.transaction(work)

    # --- stock ----------------------------------------------------------------------------

    @mapped
    async def apply_stock_level(
        self, level: StockLevel, *, cause: str = "webhook"
    ) -> StockChange | None:
        """One conditional upsert: it matches only a stored level that is strictly older, and
        inserts when there is none. Equal timestamps are refused: a redelivered event carries
        nothing new, and ``None`` stops a duplicate change event. ``held`` is only ever
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
        update = {"$set": fields, "$inc": {"version": 1}, "$setOnInsert": {"held": 0}}

        def write(upsert: bool) -> Callable[[AsyncClientSession], Awaitable[Doc | None]]:
            async def work(session: AsyncClientSession) -> Doc | None:
                raw: Doc | None = await self._stock.find_one_and_update(
                    query,
                    update if upsert else {k: v for k, v in update.items() if k != "$setOnInsert"},
                    upsert=upsert,
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
                return raw

            return work

        try:
            return await self._journalled(write(True), cause)
        except DuplicateKeyError:
            # The filter missed an existing document, so the upsert tried a second insert:
            # either that document is newer (refuse) or a concurrent first insert just won
            # the race with an older level (apply over it). The plain conditional update
            # tells the two apart.
            return await self._journalled(write(False), cause)

    @mapped
    async def set_safety_stock(
        self, sku: str, location_id: str, quantity: int
    ) -> StockChange | None:
        async def work(session: AsyncClientSession) -> Doc | None:
            raw: Doc | None = await self._stock.find_one_and_update(
                {
                    "sku": sku,
                    "location_id": location_id,
                    "quantities.safety_stock": {"$ne": quantity},
                },
                {"$set": {"quantities.safety_stock": quantity}, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            return raw

        return await self._journalled(work, "safety_stock")

    @mapped
    async def get_stock(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[StockLevel]:
        if not skus or (location_ids is not None and not location_ids):
            return []
        query: Doc = {"sku": {"$in": list(dict.fromkeys(skus))}}
        if location_ids is not None:
            query["location_id"] = {"$in": list(dict.fromkeys(location_ids))}
        cursor = self._stock.find(query).sort([("sku", ASCENDING), ("location_id", ASCENDING)])
        return [stock_from(raw) async for raw in cursor]

    @mapped
    async def changes_since(
        self,
        seq: int,
        *,
        skus: Sequence[str] | None = None,
        location_ids: Sequence[str] | None = None,
        limit: int = 500,
    ) -> list[StockChange]:
        return await self.journal.since(seq, skus=skus, location_ids=location_ids, limit=limit)

    @mapped
    async def last_seq(self) -> int:
        return await self.journal.last_seq()

    # --- holds ----------------------------------------------------------------------------

    @mapped
    async def create_hold(self, hold: Hold) -> HoldWrite | None:
        """Reserve on the stock document (the one atomic, conditional step that decides who
        gets the last unit), record the hold and journal the level, in one transaction: a
        failure or a crash between the writes leaves none of them. Shielded from
        cancellation. A repeated hold id counts as a retry, like a repeated idempotency key."""
        if hold.quantity <= 0:
            raise ValueError("a hold must reserve at least one unit")
        if hold.status is not HoldStatus.ACTIVE:
            raise ValueError("a new hold must be active")
        if hold.idempotency_key is not None:
            existing = await self._holds.find_one({"idempotency_key": hold.idempotency_key})
            if existing is not None:
                return HoldWrite(hold_from(existing), None)
        existing = await self._holds.find_one({"_id": hold.id})
        if existing is not None:
            return HoldWrite(hold_from(existing), None)
        return await asyncio.shield(self._reserve_and_record(hold))

    async def _reserve_and_record(self, hold: Hold) -> HoldWrite | None:
        stored = replace(
            hold, created_at=to_utc(hold.created_at), expires_at=to_utc(hold.expires_at)
        )
        document = self._hold_document(stored)

        async def in_transaction(session: AsyncClientSession) -> HoldWrite | None:
            reserved = await self._reserve(stored, session=session)
            if reserved is None:
                return None
            try:
                await self._holds.insert_one(document, session=session)
            except DuplicateKeyError:
                raise _HoldExists from None  # aborts: the reservation is rolled back
            change = await self.journal.append(reserved, HOLD_CAUSES[HoldStatus.ACTIVE], session)
            return HoldWrite(stored, change)

        try:
            return await self._serialised(in_transaction)
        except _HoldExists:
            return HoldWrite(await self._existing_hold(stored), None)

    async def _reserve(self, hold: Hold, *, session: AsyncClientSession) -> Doc | None:
        """The conditional step that decides who gets the last unit: ``held`` grows only
        while the free quantity covers the hold."""
        reserved: Doc | None = await self._stock.find_one_and_update(
            {
                "sku": hold.sku,
                "location_id": hold.location_id,
                "$expr": {"$gte": [_SELLABLE, hold.quantity]},
            },
            {"$inc": {"held": hold.quantity, "version": 1}},
            return_document=ReturnDocument.AFTER,
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
        return hold_from(existing)

    @mapped
    async def finish_hold(self, hold_id: str, status: HoldStatus) -> HoldWrite | None:
        """Only the caller whose conditional status change matched returns the units, in the
        same transaction, so they come back exactly once however many callers race."""
        required = finishes_from(status)
        now = utc_now()
        purge_at = now + self._hold_retention

        async def in_transaction(session: AsyncClientSession) -> HoldWrite | None:
            raw = await self._holds.find_one_and_update(
                {"_id": hold_id, "status": required.value},
                # Only a finished hold may be purged: a TTL deletion of an unfinished one
                # would strand its units in ``held`` for good.
                {"$set": {"status": status.value, "finished_at": now, "purge_at": purge_at}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if raw is None:
                return None
            level = await self._stock.find_one_and_update(
                {"sku": raw["sku"], "location_id": raw["location_id"]},
                {"$inc": {"held": -int(raw["quantity"]), "version": 1}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            change = None
            if level is not None:
                change = await self.journal.append(level, HOLD_CAUSES[status], session)
            return HoldWrite(hold_from(raw), change)

        return await asyncio.shield(self._serialised(in_transaction))

    @mapped
    async def complete_hold(self, hold_id: str, *, at: datetime) -> Hold | None:
        """Reads the level and moves the hold in one transaction, so the recorded
        ``available`` is the one the completion saw."""

        async def in_transaction(session: AsyncClientSession) -> Hold | None:
            hold = await self._holds.find_one(
                {"_id": hold_id, "status": HoldStatus.ACTIVE.value}, session=session
            )
            if hold is None:
                return None
            level = await self._stock.find_one(
                {"sku": hold["sku"], "location_id": hold["location_id"]}, session=session
            )
            available = int(((level or {}).get("quantities") or {}).get("available", 0))
            raw = await self._holds.find_one_and_update(
                {"_id": hold_id, "status": HoldStatus.ACTIVE.value},
                {
                    "$set": {
                        "status": HoldStatus.COMPLETED.value,
                        "completed_at": to_utc(at),
                        "available_at_completion": available,
                    }
                },
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            return None if raw is None else hold_from(raw)

        return await asyncio.shield(self._backend.transaction(in_transaction))

    @mapped
    async def hold_figures(
        self, since: datetime, until: datetime, location_ids: Sequence[str] | None = None
    ) -> list[HoldFigures]:
        return await inventory_figures.hold_figures(self._holds, since, until, location_ids)

    @mapped
    async def stock_figures(
        self, since: datetime, until: datetime, ids: Sequence[str] | None = None, *, first: int = 10
    ) -> list[SkuStock]:
        return await inventory_figures.stock_figures(
            self.journal.collection, since, until, ids, first
        )
