"""The :class:`~resolvers.store.SavedSegmentStore` contract on every backend (see
``tests/store/conftest.py``): segments by id and by name, unique names, and membership writes
that change something once however many writers race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from resolvers.segments import codec
from resolvers.segments.filters import CustomerFilter, When
from resolvers.store import SavedSegmentStore
from resolvers.store.saved_segments import SavedSegment, SegmentNameTaken
from resolvers.store.segments import ChannelMix

CREATED = datetime(2026, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)
LAPSED = CustomerFilter(channel=ChannelMix.IN_STORE_ONLY, last_order=When(not_within_days=90))


def segment(segment_id: str, name: str, where: CustomerFilter = LAPSED) -> SavedSegment:
    return SavedSegment(id=segment_id, name=name, filter=codec.dump(where), created_at=CREATED)


async def test_a_saved_segment_reads_back_as_saved(saved_segments: SavedSegmentStore) -> None:
    await saved_segments.create_segment(segment("s1", "Lapsed in-store"))
    got = await saved_segments.get_segment("s1")
    assert got == segment("s1", "Lapsed in-store")
    assert got is not None
    assert codec.load(got.filter) == LAPSED
    assert await saved_segments.get_segment("nope") is None


async def test_segments_are_listed_by_name(saved_segments: SavedSegmentStore) -> None:
    await saved_segments.create_segment(segment("s1", "b"))
    await saved_segments.create_segment(segment("s2", "a"))
    assert [s.id for s in await saved_segments.list_segments()] == ["s2", "s1"]


async def test_a_name_is_taken_once(saved_segments: SavedSegmentStore) -> None:
    await saved_segments.create_segment(segment("s1", "VIP"))
    with pytest.raises(SegmentNameTaken) as caught:
        await saved_segments.create_segment(segment("s2", "VIP"))
    assert caught.value.code == "CONFLICT"
    assert [s.id for s in await saved_segments.list_segments()] == ["s1"]


async def test_entering_and_leaving_change_the_members_once(
    saved_segments: SavedSegmentStore,
) -> None:
    await saved_segments.create_segment(segment("s1", "one"))
    await saved_segments.create_segment(segment("s2", "two"))
    assert await saved_segments.enter("s1", "cus_a") is True
    assert await saved_segments.enter("s1", "cus_a") is False
    assert await saved_segments.enter("s2", "cus_a") is True
    assert await saved_segments.enter("s1", "cus_b") is True
    assert await saved_segments.member_ids("s1") == {"cus_a", "cus_b"}
    assert await saved_segments.memberships("cus_a") == {"s1", "s2"}
    assert await saved_segments.leave("s1", "cus_a") is True
    assert await saved_segments.leave("s1", "cus_a") is False
    assert await saved_segments.leave("s1", "cus_never") is False
    assert await saved_segments.member_ids("s1") == {"cus_b"}
    assert await saved_segments.memberships("cus_a") == {"s2"}


async def test_racing_writers_change_a_membership_once(saved_segments: SavedSegmentStore) -> None:
    await saved_segments.create_segment(segment("s1", "one"))
    entered = await asyncio.gather(*(saved_segments.enter("s1", "cus_a") for _ in range(8)))
    assert entered.count(True) == 1
    left = await asyncio.gather(*(saved_segments.leave("s1", "cus_a") for _ in range(8)))
    assert left.count(True) == 1
    assert await saved_segments.member_ids("s1") == set()


async def test_deleting_a_segment_drops_its_members(saved_segments: SavedSegmentStore) -> None:
    await saved_segments.create_segment(segment("s1", "one"))
    await saved_segments.enter("s1", "cus_a")
    assert await saved_segments.delete_segment("s1") is True
    assert await saved_segments.delete_segment("s1") is False
    assert await saved_segments.get_segment("s1") is None
    assert await saved_segments.member_ids("s1") == set()
    assert await saved_segments.memberships("cus_a") == set()
    # The name is free again.
    await saved_segments.create_segment(segment("s3", "one"))
