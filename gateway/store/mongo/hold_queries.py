"""Reading pickup holds on MongoDB: the documents' shape and the queries that only read,
apart from the writes in :mod:`.inventory` that move units."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from gateway.store.mongo.base import Doc, mapped
from gateway.store.timeutil import to_utc
from resolvers.model import Hold, HoldStatus


def hold_from(raw: Doc) -> Hold:
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
        completed_at=raw.get("completed_at"),
        available_at_completion=raw.get("available_at_completion"),
        finished_at=raw.get("finished_at"),
    )


class HoldQueries:
    _holds: AsyncCollection[Doc]

    @mapped
    async def get_hold(self, hold_id: str) -> Hold | None:
        raw = await self._holds.find_one({"_id": hold_id})
        return None if raw is None else hold_from(raw)

    async def _find_holds(self, query: Doc, sort: list[tuple[str, int]], limit: int) -> list[Hold]:
        if limit <= 0:
            return []
        cursor = self._holds.find(query).sort(sort).limit(limit)
        return [hold_from(raw) async for raw in cursor]

    @mapped
    async def holds_for_customer(self, customer_id: str, *, limit: int = 50) -> list[Hold]:
        return await self._find_holds(
            {"customer_id": customer_id}, [("created_at", DESCENDING), ("_id", DESCENDING)], limit
        )

    @mapped
    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        return await self._find_holds(
            {"status": HoldStatus.ACTIVE.value, "expires_at": {"$lte": to_utc(now)}},
            [("expires_at", ASCENDING), ("_id", ASCENDING)],
            limit,
        )

    @mapped
    async def completed_holds(self, sku: str, location_id: str) -> list[Hold]:
        return await self._find_holds(
            {"sku": sku, "location_id": location_id, "status": HoldStatus.COMPLETED.value},
            [("completed_at", ASCENDING), ("_id", ASCENDING)],
            1000,
        )

    @mapped
    async def unsettled_holds(self, completed_before: datetime, limit: int = 100) -> list[Hold]:
        return await self._find_holds(
            {
                "status": HoldStatus.COMPLETED.value,
                "completed_at": {"$lt": to_utc(completed_before)},
            },
            [("completed_at", ASCENDING), ("_id", ASCENDING)],
            limit,
        )
