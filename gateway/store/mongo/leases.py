"""Leases on MongoDB (collection ``leases``): the lease name is the ``_id``, so the unique
``_id`` index is what refuses a second holder."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from gateway.store.mongo.base import MongoBackend, mapped
from gateway.store.timeutil import to_utc


class MongoLeases:
    """The :class:`~resolvers.store.LeaseStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._leases = backend.collection("leases")

    async def prepare(self) -> None:
        return None  # the ``_id`` index is all it needs

    @mapped
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

    @mapped
    async def release_lease(self, name: str, holder: str) -> None:
        await self._leases.delete_one({"_id": name, "holder": holder})
