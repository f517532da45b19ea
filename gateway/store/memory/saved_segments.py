"""Saved segments in memory: the segments by id, and a set of member ids per segment.

No method awaits between its check and its write, so each is atomic on the event loop; the
lock keeps them so if one ever does."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace

from gateway.store.timeutil import to_utc
from resolvers.store.saved_segments import SavedSegment, SegmentNameTaken


class MemorySavedSegments:
    """The :class:`~resolvers.store.SavedSegmentStore` of the memory store."""

    def __init__(self) -> None:
        self._segments: dict[str, SavedSegment] = {}
        self._members: defaultdict[str, set[str]] = defaultdict(set)
        self._lock = asyncio.Lock()

    async def create_segment(self, segment: SavedSegment) -> None:
        segment = replace(segment, created_at=to_utc(segment.created_at))
        async with self._lock:
            if any(s.name == segment.name for s in self._segments.values()):
                raise SegmentNameTaken(f"segment name {segment.name!r} is taken")
            self._segments[segment.id] = segment

    async def get_segment(self, segment_id: str) -> SavedSegment | None:
        return self._segments.get(segment_id)

    async def list_segments(self) -> list[SavedSegment]:
        return sorted(self._segments.values(), key=lambda s: s.name)

    async def delete_segment(self, segment_id: str) -> bool:
        async with self._lock:
            self._members.pop(segment_id, None)
            return self._segments.pop(segment_id, None) is not None

    async def enter(self, segment_id: str, profile_id: str) -> bool:
        async with self._lock:
            if segment_id not in self._segments:
                return False
            members = self._members[segment_id]
            if profile_id in members:
                return False
            members.add(profile_id)
            return True

    async def leave(self, segment_id: str, profile_id: str) -> bool:
        async with self._lock:
            members = self._members.get(segment_id)
            if members is None or profile_id not in members:
                return False
            members.discard(profile_id)
            return True

    async def member_ids(self, segment_id: str) -> set[str]:
        return set(self._members.get(segment_id, ()))

    async def memberships(self, profile_id: str) -> set[str]:
        return {s for s, members in self._members.items() if profile_id in members}
