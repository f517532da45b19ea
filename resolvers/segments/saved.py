"""Saved segments: a named filter, its members recorded, each change of membership
announced on the segment's bus topic (``segmentChanged``).

Membership is re-decided for one person whenever their facts are written (after every
profile build, :func:`resolvers.segments.facts.record`) or their profile is retired
(``retire_profile``'s ``on_retired``), and for everyone by the periodic sweep
(``gateway/segment_sweeper.py``), which catches what changes with time alone ("no order in
90 days"), and anything a failed re-decision left behind. Each decision is a
conditional write (enter if absent, leave if present): a replica, or a sweep, racing another
over the same person changes the membership once, and only the writer whose write changed it
publishes. The membership saved with a new segment is filled in silently: a subscriber hears
changes from then on, not the segment's first members.

What the stored members are for is the transitions; ``memberCount`` and ``members`` are
evaluated at the read, like ``customerSegment``, so relative dates are current then.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from resolvers.errors import BadUserInput, Forbidden, NotFound, OmnigateError
from resolvers.events import EventBus, Resync
from resolvers.segments import codec
from resolvers.segments.filters import CustomerFilter, build
from resolvers.store import Store
from resolvers.store.saved_segments import SavedSegment, SegmentNameTaken
from resolvers.store.segments import Filter, matches
from resolvers.viewer import Role, Viewer

#: Longest segment name.
MAX_NAME = 100
#: Facts read per page while filling or sweeping a segment: large, since each page also
#: counts the whole segment (the memory store scans it all, MongoDB counts it).
SCAN_PAGE: Final = 5000


def topic(segment_id: str) -> str:
    """The bus topic of a segment's transitions."""
    return f"segment.{segment_id}"


class Change(enum.StrEnum):
    ENTERED = "entered"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class SegmentChange:
    segment_id: str
    customer_id: str
    change: Change
    at: datetime


class SavedServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventBus: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _internal(viewer: Viewer) -> None:
    if viewer.role is not Role.INTERNAL:
        raise Forbidden("Segments are for internal tokens only.")


def tree_of(segment: SavedSegment, now: datetime) -> Filter | None:
    """The store's tree for the segment now; ``None`` when it can hold for no one now (a
    fixed ``before`` that a relative ``withinDays`` has moved past): then it has no members."""
    try:
        return build(codec.load(segment.filter), now)
    except BadUserInput:
        return None


async def matching_ids(store: Store, tree: Filter | None) -> set[str]:
    if tree is None:
        return set()
    found: set[str] = set()
    after: str | None = None
    while True:
        page = await store.segments.find_facts(tree, first=SCAN_PAGE, after=after)
        found.update(f.profile_id for f in page.facts)
        if not page.has_next or not page.facts:
            return found
        after = page.facts[-1].profile_id


async def save_segment(
    services: SavedServices,
    viewer: Viewer,
    name: str,
    where: CustomerFilter,
    *,
    now: datetime | None = None,
) -> SavedSegment:
    """Validate and store the segment, then record its present members (no events).
    ``BAD_USER_INPUT`` for an invalid filter or name, ``CONFLICT`` for a name in use."""
    _internal(viewer)
    now = now or _now()
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise BadUserInput(
            f"a segment name has 1 to {MAX_NAME} characters", extensions={"argument": "name"}
        )
    tree = build(where, now)
    segment = SavedSegment(id=uuid.uuid4().hex, name=name, filter=codec.dump(where), created_at=now)
    try:
        await services.store.saved_segments.create_segment(segment)
    except SegmentNameTaken as exc:
        # The client's own doing, not a store failure: said as such, not logged as one.
        raise OmnigateError(
            f"a saved segment named {name!r} exists already",
            code="CONFLICT",
            extensions={"argument": "name"},
        ) from exc
    for profile_id in sorted(await matching_ids(services.store, tree)):
        await services.store.saved_segments.enter(segment.id, profile_id)
    return segment


async def delete_segment(services: SavedServices, viewer: Viewer, segment_id: str) -> bool:
    _internal(viewer)
    return await services.store.saved_segments.delete_segment(segment_id)


async def list_segments(services: SavedServices, viewer: Viewer) -> list[SavedSegment]:
    _internal(viewer)
    return await services.store.saved_segments.list_segments()


async def get_segment(
    services: SavedServices, viewer: Viewer, segment_id: str
) -> SavedSegment | None:
    _internal(viewer)
    return await services.store.saved_segments.get_segment(segment_id)


def _announce(services: SavedServices, change: SegmentChange) -> None:
    services.events.publish(topic(change.segment_id), change)


async def _move(
    services: SavedServices, segment_id: str, profile_id: str, inside: bool, now: datetime
) -> bool:
    """Record one decision; publish it when this call's write changed the membership."""
    members = services.store.saved_segments
    changed = await (members.enter if inside else members.leave)(segment_id, profile_id)
    if changed:
        change = Change.ENTERED if inside else Change.LEFT
        _announce(services, SegmentChange(segment_id, profile_id, change, now))
    return changed


async def reevaluate(
    services: SavedServices, profile_id: str, *, clock: Callable[[], datetime] = _now
) -> int:
    """Re-decide ``profile_id``'s membership of every saved segment from its stored facts
    (so a write that lost to a newer build decides by the newer facts); a tombstone or no
    facts is in none. Returns how many transitions this call recorded."""
    segments = await services.store.saved_segments.list_segments()
    if not segments:
        return 0
    now = clock()
    facts = (await services.store.segments.get_facts([profile_id])).get(profile_id)
    current = await services.store.saved_segments.memberships(profile_id)
    moved = 0
    for segment in segments:
        tree = tree_of(segment, now)
        inside = facts is not None and tree is not None and matches(facts, tree)
        if inside != (segment.id in current):
            moved += await _move(services, segment.id, profile_id, inside, now)
    return moved


async def sweep(services: SavedServices, *, clock: Callable[[], datetime] = _now) -> int:
    """Re-decide every saved segment against all facts, now: who entered or left with the
    passing of time alone, or by a retirement. Returns how many transitions it recorded."""
    moved = 0
    for segment in await services.store.saved_segments.list_segments():
        now = clock()
        expected = await matching_ids(services.store, tree_of(segment, now))
        recorded = await services.store.saved_segments.member_ids(segment.id)
        for profile_id in sorted(expected - recorded):
            moved += await _move(services, segment.id, profile_id, True, now)
        for profile_id in sorted(recorded - expected):
            moved += await _move(services, segment.id, profile_id, False, now)
    return moved


async def segment_changes(
    services: SavedServices, viewer: Viewer, segment_id: str
) -> AsyncIterator[SegmentChange]:
    """The transitions this process records for the segment, from now on. A subscriber too
    slow to keep up loses the ones its queue had no room for (re-read ``members`` then)."""
    _internal(viewer)
    if await services.store.saved_segments.get_segment(segment_id) is None:
        raise NotFound(f"no saved segment {segment_id!r}")
    async with services.events.subscribe(topic(segment_id)) as sub:
        async for event in sub:
            if isinstance(event, Resync):
                continue
            yield event


async def member_count(
    services: SavedServices, segment: SavedSegment, *, now: datetime | None = None
) -> int:
    """How many people the segment describes now (not the recorded members)."""
    tree = tree_of(segment, now or _now())
    if tree is None:
        return 0
    return (await services.store.segments.find_facts(tree, first=1)).total
