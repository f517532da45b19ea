"""Stock levels and pickup holds on MongoDB (collections ``stock`` and ``holds``).

* stock: one conditional upsert that only lands over an older ``updated_at``;
* holds: one ``find_one_and_update`` whose ``$expr`` filter only matches while the free
  quantity covers the hold, incrementing ``held`` in the same step, in one transaction with
  the hold's own document (and with its release when it finishes).

A late TTL backstop (``purge_at``) keeps finished holds from growing the collection forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from connectors.records import Source
from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.retention import DEFAULT_HOLD_RETENTION
from gateway.store.timeutil import to_utc, utc_now
from resolvers.model import Hold, HoldStatus, StockLevel
from resolvers.store import StoreError

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


class _HoldExists(Exception):
    """Aborts a hold transaction: a hold with this id or idempotency key already exists."""


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


class MongoInventory:
    """The :class:`~resolvers.store.InventoryStore` on MongoDB. The stock document's
    quantities come from upstream; its ``held`` is written only by holds."""

    def __init__(
        self, backend: MongoBackend, *, hold_retention: timedelta = DEFAULT_HOLD_RETENTION
    ) -> None:
        self._backend = backend
        self._hold_retention = hold_retention
        self._stock = backend.collection("stock")
        self._holds = backend.collection("holds")

    async def prepare(self) -> None:
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
        await self._backend.ensure_ttl(self._holds, "purge_at", timedelta(0))

    # --- stock ----------------------------------------------------------------------------

    @mapped
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
        return [_stock_from(raw) async for raw in cursor]

    # --- holds ----------------------------------------------------------------------------

    @mapped
    async def create_hold(self, hold: Hold) -> Hold | None:
        """Reserve on the stock document (the one atomic, conditional step that decides who
        gets the last unit) and record the hold, in one transaction: a failure or a crash
        between the two writes leaves neither. Shielded from cancellation. A repeated hold id
        counts as a retry, like a repeated idempotency key."""
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
            return await self._backend.transaction(in_transaction)
        except _HoldExists:
            return await self._existing_hold(stored)

    async def _reserve(self, hold: Hold, *, session: AsyncClientSession) -> Doc | None:
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

    @mapped
    async def finish_hold(self, hold_id: str, status: HoldStatus) -> Hold | None:
        """Only the caller whose conditional status change from ``active`` matched returns
        the units, in the same transaction, so they come back exactly once however many
        callers race."""
        if status is HoldStatus.ACTIVE:
            raise ValueError("finish_hold needs a final status, not active")

        async def in_transaction(session: AsyncClientSession) -> Hold | None:
            return await self._finish(hold_id, status, session=session)

        return await asyncio.shield(self._backend.transaction(in_transaction))

    async def _finish(
        self, hold_id: str, status: HoldStatus, *, session: AsyncClientSession
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

    @mapped
    async def get_hold(self, hold_id: str) -> Hold | None:
        raw = await self._holds.find_one({"_id": hold_id})
        return None if raw is None else _hold_from(raw)

    @mapped
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
