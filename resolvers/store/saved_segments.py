"""The saved segments port: named filters, and the members each one had when it was last
evaluated, so a change of membership is recorded (and announced) once.

The filter is kept as the operator wrote it, in a JSON-able form
(:mod:`resolvers.segments.codec`), not as the store's tree: "within 90 days" must stay
relative, and the tree holds absolute bounds.

Membership writes are conditional: :meth:`SavedSegmentStore.enter` inserts only if absent,
:meth:`SavedSegmentStore.leave` deletes only if present, each answering whether it changed
anything. Two replicas re-evaluating the same person at once both try the write, and only one
is told it changed something: only that one announces the transition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from resolvers.store.errors import StoreError


@dataclass(frozen=True, slots=True)
class SavedSegment:
    id: str
    name: str
    #: The filter as :func:`resolvers.segments.codec.dump` writes it.
    filter: Mapping[str, Any]
    created_at: datetime


class SegmentNameTaken(StoreError):
    """A saved segment of that name exists already (names are unique)."""

    code: ClassVar[str] = "CONFLICT"
    public_message: ClassVar[str] = "A saved segment of that name exists already."


class SavedSegmentStore(Protocol):
    async def create_segment(self, segment: SavedSegment) -> None:
        """Store a new segment; :class:`SegmentNameTaken` if its name is in use."""
        ...

    async def get_segment(self, segment_id: str) -> SavedSegment | None: ...

    async def list_segments(self) -> list[SavedSegment]:
        """Every saved segment, by name."""
        ...

    async def delete_segment(self, segment_id: str) -> bool:
        """Delete the segment and its members; whether it existed."""
        ...

    async def enter(self, segment_id: str, profile_id: str) -> bool:
        """Record ``profile_id`` as a member unless it is one; whether this call added it."""
        ...

    async def leave(self, segment_id: str, profile_id: str) -> bool:
        """Remove ``profile_id`` from the members if it is one; whether this call removed it."""
        ...

    async def member_ids(self, segment_id: str) -> set[str]:
        """Every recorded member of the segment."""
        ...

    async def memberships(self, profile_id: str) -> set[str]:
        """The ids of the segments ``profile_id`` is a recorded member of."""
        ...
