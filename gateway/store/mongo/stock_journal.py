"""The stock journal on MongoDB (collection ``stock_journal``, counter in ``counters``).

Every write to a stock document appends the level as stored, inside the same transaction,
with ``_id`` taken from one counter document incremented in that transaction. Two writers
that both increment the counter conflict, and MongoDB aborts one of them (it retries), so a
``seq`` is only ever visible after every smaller one has committed: "the entries after
``seq``" never skips one that commits late. The price is that stock writes serialise on
the counter; a retailer's stock traffic (hundreds of events a second at peak) is far below
what one document's update rate allows (see docs/decisions.md).

The change-stream bus watches this collection's inserts (each one a whole level), so other
replicas see a change without reading the stock collection. A TTL index on ``at`` bounds
it; a cursor older than what is kept gets ``CursorExpired``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from connectors.records import Source
from gateway.store.mongo.base import Doc, MongoBackend
from gateway.store.timeutil import utc_now
from resolvers.model import StockChange, StockLevel
from resolvers.store.errors import CursorExpired, StoreError

JOURNAL = "stock_journal"
COUNTERS = "counters"
#: How long journal entries are kept: a subscriber that was away longer re-reads the stock.
DEFAULT_JOURNAL_RETENTION = timedelta(hours=24)


def stock_from(raw: Doc) -> StockLevel:
    source = raw.get("source")
    return StockLevel(
        sku=raw["sku"],
        location_id=raw["location_id"],
        quantities={name: int(value) for name, value in (raw.get("quantities") or {}).items()},
        updated_at=raw["updated_at"],
        held=int(raw.get("held", 0)),
        source=Source(source) if source else None,
        version=int(raw.get("version", 0)),
    )


def change_from(raw: Doc) -> StockChange:
    level = raw["level"]
    return StockChange(
        seq=int(raw["_id"]),
        level=stock_from({"sku": raw["sku"], "location_id": raw["location_id"], **level}),
        cause=raw["cause"],
        at=raw["at"],
    )


class StockJournal:
    def __init__(
        self, backend: MongoBackend, *, retention: timedelta = DEFAULT_JOURNAL_RETENTION
    ) -> None:
        self._backend = backend
        self._retention = retention
        self.collection = backend.collection(JOURNAL)
        self._counters = backend.collection(COUNTERS)

    async def prepare(self) -> None:
        await self._backend.ensure_collections(JOURNAL, COUNTERS)
        await self.collection.create_index([("sku", ASCENDING), ("_id", ASCENDING)], name="sku_seq")
        await self._backend.ensure_ttl(self.collection, "at", self._retention)
        # Created up front: two first writers upserting it inside transactions would fail
        # with a duplicate key rather than a retryable write conflict.
        with contextlib.suppress(DuplicateKeyError):
            await self._counters.insert_one({"_id": JOURNAL, "seq": 0})

    async def append(self, raw_level: Doc, cause: str, session: AsyncClientSession) -> StockChange:
        """Journal a stock document as just written. The counter is the last write of the
        transaction, so it is held for the shortest time."""
        counter: Doc | None = await self._counters.find_one_and_update(
            {"_id": JOURNAL},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if counter is None:
            raise StoreError("the stock journal counter is missing")
        at = utc_now()
        entry: Doc = {
            "_id": int(counter["seq"]),
            "sku": raw_level["sku"],
            "location_id": raw_level["location_id"],
            "cause": cause,
            "at": at,
            "level": {
                "quantities": raw_level.get("quantities") or {},
                "held": int(raw_level.get("held", 0)),
                "version": int(raw_level.get("version", 0)),
                "updated_at": raw_level["updated_at"],
                "source": raw_level.get("source"),
            },
        }
        await self.collection.insert_one(entry, session=session)
        return change_from(entry)

    async def last_seq(self) -> int:
        counter = await self._counters.find_one({"_id": JOURNAL})
        return int(counter["seq"]) if counter else 0

    async def since(
        self,
        seq: int,
        *,
        skus: Sequence[str] | None,
        location_ids: Sequence[str] | None,
        limit: int,
    ) -> list[StockChange]:
        last = await self.last_seq()
        if seq < 0 or seq > last:
            raise CursorExpired(f"no journal position {seq} (last is {last})")
        if seq < last:
            oldest = await self.collection.find_one({}, sort=[("_id", ASCENDING)])
            if oldest is None or int(oldest["_id"]) > seq + 1:
                raise CursorExpired(f"journal entries after {seq} were dropped")
        query: dict[str, Any] = {"_id": {"$gt": seq}}
        if skus is not None:
            query["sku"] = {"$in": list(dict.fromkeys(skus))}
        if location_ids is not None:
            query["location_id"] = {"$in": list(dict.fromkeys(location_ids))}
        cursor = self.collection.find(query).sort([("_id", ASCENDING)]).limit(max(0, limit))
        return [change_from(raw) async for raw in cursor]
