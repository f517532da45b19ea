"""Saved segments on MongoDB: collection ``saved_segments`` (unique index on ``name``) and
``segment_members``, one document per (segment, member) with a unique index on the pair.

Entering is an insert whose duplicate-key refusal means "a member already"; leaving is a
``delete_one`` whose count says whether it removed anything. Either way the server decides
which of two racing writers changed the membership, and only that one is told so.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.timeutil import to_utc
from resolvers.store.saved_segments import SavedSegment, SegmentNameTaken

SEGMENT_INDEXES = [IndexModel([("name", ASCENDING)], name="name", unique=True)]
MEMBER_INDEXES = [
    IndexModel([("segment_id", ASCENDING), ("profile_id", ASCENDING)], name="pair", unique=True),
    IndexModel([("profile_id", ASCENDING)], name="profile_id"),
]


def _segment_from(raw: Doc) -> SavedSegment:
    filter_: dict[str, Any] = raw["filter"]
    return SavedSegment(
        id=raw["_id"], name=raw["name"], filter=filter_, created_at=to_utc(raw["created_at"])
    )


class MongoSavedSegments:
    """The :class:`~resolvers.store.SavedSegmentStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._segments = backend.collection("saved_segments")
        self._members = backend.collection("segment_members")

    async def prepare(self) -> None:
        await self._segments.create_indexes(SEGMENT_INDEXES)
        await self._members.create_indexes(MEMBER_INDEXES)

    @mapped
    async def create_segment(self, segment: SavedSegment) -> None:
        try:
            await self._segments.insert_one(
                {
                    "_id": segment.id,
                    "name": segment.name,
                    "filter": dict(segment.filter),
                    "created_at": to_utc(segment.created_at),
                }
            )
        except DuplicateKeyError as exc:
            raise SegmentNameTaken(f"segment name {segment.name!r} is taken") from exc

    @mapped
    async def get_segment(self, segment_id: str) -> SavedSegment | None:
        raw = await self._segments.find_one({"_id": segment_id})
        return _segment_from(raw) if raw is not None else None

    @mapped
    async def list_segments(self) -> list[SavedSegment]:
        return [_segment_from(raw) async for raw in self._segments.find({}).sort("name", ASCENDING)]

    @mapped
    async def delete_segment(self, segment_id: str) -> bool:
        result = await self._segments.delete_one({"_id": segment_id})
        await self._members.delete_many({"segment_id": segment_id})
        return result.deleted_count > 0

    @mapped
    async def enter(self, segment_id: str, profile_id: str) -> bool:
        try:
            await self._members.insert_one({"segment_id": segment_id, "profile_id": profile_id})
        except DuplicateKeyError:
            return False
        return True

    @mapped
    async def leave(self, segment_id: str, profile_id: str) -> bool:
        result = await self._members.delete_one(
            {"segment_id": segment_id, "profile_id": profile_id}
        )
        return result.deleted_count > 0

    @mapped
    async def member_ids(self, segment_id: str) -> set[str]:
        cursor = self._members.find({"segment_id": segment_id}, {"profile_id": 1, "_id": 0})
        return {raw["profile_id"] async for raw in cursor}

    @mapped
    async def memberships(self, profile_id: str) -> set[str]:
        cursor = self._members.find({"profile_id": profile_id}, {"segment_id": 1, "_id": 0})
        return {raw["segment_id"] async for raw in cursor}
