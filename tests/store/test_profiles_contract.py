"""The :class:`~resolvers.store.ProfileStore` contract: versions, stubs, invalidation and
the counter's lookups, on every backend (see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.store import ProfileStore, VersionConflict
from tests.store.builders import T0, profile


async def test_put_then_get_round_trips_and_bumps_version(profiles: ProfileStore) -> None:
    doc = profile(
        "p1", emails=["ann@example.com"], phones=["+15550001"], names=["ann", "ann lee", "lee"]
    )
    doc.refreshed_at = T0
    first = await profiles.put_profile(doc)
    assert first.version == 1
    second = await profiles.put_profile(doc)
    assert second.version == 2

    got = (await profiles.get_profiles(["p1", "missing"]))["p1"]
    assert got.body == {"id": "p1", "nested": {"tags": ["a"]}}
    assert got.emails == ["ann@example.com"]
    assert got.names == ["ann", "ann lee", "lee"]
    assert got.refreshed_at == T0
    assert got.refreshed_at is not None
    assert got.refreshed_at.tzinfo is not None
    assert got.version == 2
    assert set(await profiles.get_profiles(["p1", "missing"])) == {"p1"}


async def test_returned_profiles_are_copies(profiles: ProfileStore) -> None:
    stored = await profiles.put_profile(profile("p1", emails=["a@x.io"]))
    stored.body["nested"]["tags"].append("mutated")
    stored.emails.append("b@x.io")
    got = (await profiles.get_profiles(["p1"]))["p1"]
    got.body["nested"]["tags"].append("mutated again")
    again = (await profiles.get_profiles(["p1"]))["p1"]
    assert again.body["nested"]["tags"] == ["a"]
    assert again.emails == ["a@x.io"]
    assert await profiles.find_profiles(email="b@x.io") == []


async def test_expected_version_guards_concurrent_writers(profiles: ProfileStore) -> None:
    created = await profiles.put_profile(profile("p1"), expected_version=0)
    assert created.version == 1
    with pytest.raises(VersionConflict):
        await profiles.put_profile(profile("p1"), expected_version=0)

    winner = profile("p1")
    winner.body = {"by": "winner"}
    assert (await profiles.put_profile(winner, expected_version=1)).version == 2
    loser = profile("p1")
    loser.body = {"by": "loser"}
    with pytest.raises(VersionConflict):
        await profiles.put_profile(loser, expected_version=1)
    got = (await profiles.get_profiles(["p1"]))["p1"]
    assert (got.body, got.version) == ({"by": "winner"}, 2)

    with pytest.raises(VersionConflict):  # "must exist at version 3" on a missing profile
        await profiles.put_profile(profile("p2"), expected_version=3)
    assert await profiles.get_profiles(["p2"]) == {}


async def test_concurrent_versioned_writes_have_one_winner(profiles: ProfileStore) -> None:
    await profiles.put_profile(profile("p1"))

    async def write(n: int) -> int | None:
        doc = profile("p1")
        doc.body = {"writer": n}
        try:
            return (await profiles.put_profile(doc, expected_version=1)).version
        except VersionConflict:
            return None

    results = await asyncio.gather(*(write(n) for n in range(10)))
    assert [r for r in results if r is not None] == [2]


async def test_delete_profile_removes_it_from_lookups(profiles: ProfileStore) -> None:
    await profiles.put_profile(profile("p1", emails=["ann@x.io"], phones=["+1555"], names=["ann"]))
    assert await profiles.delete_profile("p1") is True
    assert await profiles.delete_profile("p1") is False
    assert await profiles.get_profiles(["p1"]) == {}
    assert await profiles.find_profiles(email="ann@x.io") == []
    assert await profiles.find_profiles(phone="+1555") == []
    assert await profiles.find_profiles(name_prefix="an") == []


async def test_a_deleted_profile_leaves_a_stub_that_stale_writers_cannot_overwrite(
    profiles: ProfileStore,
) -> None:
    live = await profiles.put_profile(profile("p1", emails=["ann@x.io"], names=["ann"]))
    assert await profiles.delete_profile("p1") is True
    # A rebuild that read the live version before the deletion loses its write.
    with pytest.raises(VersionConflict):
        await profiles.put_profile(
            profile("p1", emails=["ann@x.io"]), expected_version=live.version
        )
    # And one that read nothing at all (expected 0) cannot insert over the stub either.
    with pytest.raises(VersionConflict):
        await profiles.put_profile(profile("p1", emails=["ann@x.io"]), expected_version=0)
    assert await profiles.get_profiles(["p1"]) == {}
    assert await profiles.find_profiles(email="ann@x.io") == []
    [stub] = (await profiles.get_profiles(["p1"], include_retired=True)).values()
    assert stub.retired
    assert stub.version > live.version
    assert (stub.body, stub.emails, stub.phones, stub.names) == ({}, [], [], [])
    # A rebuild that read the stub (identities came back, e.g. an unmerge) revives it.
    revived = await profiles.put_profile(
        profile("p1", emails=["ann@x.io"]), expected_version=stub.version
    )
    assert not revived.retired
    assert (await profiles.get_profiles(["p1"]))["p1"].emails == ["ann@x.io"]
    assert [d.id for d in await profiles.find_profiles(email="ann@x.io")] == ["p1"]


async def test_deleting_a_profile_never_stored_still_blocks_a_first_insert(
    profiles: ProfileStore,
) -> None:
    assert await profiles.delete_profile("p9") is False
    with pytest.raises(VersionConflict):
        await profiles.put_profile(profile("p9"), expected_version=0)
    assert await profiles.get_profiles(["p9"]) == {}


async def test_invalidate_bumps_versions_so_stale_rebuilds_conflict(profiles: ProfileStore) -> None:
    live = await profiles.put_profile(profile("p1", emails=["ann@x.io"], refreshed_at=T0))
    assert live.refreshed_at == T0
    await profiles.invalidate_profiles(["p1", "p2", "p1"])
    with pytest.raises(VersionConflict):
        await profiles.put_profile(profile("p1"), expected_version=live.version)
    got = await profiles.get_profiles(["p1", "p2"])
    assert got["p1"].version == live.version + 1
    assert got["p1"].emails == ["ann@x.io"]  # the data stays, due for a rebuild
    assert got["p1"].refreshed_at is None
    # A profile with no document yet gets a body-less one, so a rebuild that read
    # "nothing" (expected 0) before the identities changed conflicts too.
    assert got["p2"].body == {}
    assert got["p2"].version == 1
    with pytest.raises(VersionConflict):
        await profiles.put_profile(profile("p2"), expected_version=0)


async def test_find_by_email_and_phone(profiles: ProfileStore) -> None:
    await profiles.put_profile(profile("p1", emails=["ann@x.io", "ann@work.io"], phones=["+1555"]))
    await profiles.put_profile(profile("p2", emails=["bob@x.io"], phones=["+1555"]))
    await profiles.put_profile(profile("p3", emails=["cy@x.io"], phones=["+1777"]))

    assert [d.id for d in await profiles.find_profiles(email="ann@work.io")] == ["p1"]
    assert sorted(d.id for d in await profiles.find_profiles(phone="+1555")) == ["p1", "p2"]
    assert await profiles.find_profiles(email="nobody@x.io") == []
    assert await profiles.find_profiles() == []
    assert len(await profiles.find_profiles(phone="+1555", limit=1)) == 1
    found = (await profiles.find_profiles(email="cy@x.io"))[0]
    assert found.body == {"id": "p3", "nested": {"tags": ["a"]}}


async def test_find_by_name_prefix_respects_limit(profiles: ProfileStore) -> None:
    for n in range(30):
        names = [f"lee{n:02d}", f"ann lee{n:02d}", "ann"] if n % 2 else [f"lee{n:02d}"]
        await profiles.put_profile(profile(f"p{n:02d}", names=names))
    await profiles.put_profile(profile("q1", names=["leon", "leon ng", "ng"]))
    await profiles.put_profile(profile("q2", names=["le"]))

    five = await profiles.find_profiles(name_prefix="lee", limit=5)
    assert len(five) == 5
    assert len({d.id for d in five}) == 5
    assert all(d.id.startswith("p") for d in five)
    assert len(await profiles.find_profiles(name_prefix="lee", limit=100)) == 30
    assert {d.id for d in await profiles.find_profiles(name_prefix="ann lee0")} == {
        "p01",
        "p03",
        "p05",
        "p07",
        "p09",
    }
    assert {d.id for d in await profiles.find_profiles(name_prefix="Leo")} == {"q1"}
    assert len(await profiles.find_profiles(name_prefix="le", limit=50)) == 32
    assert await profiles.find_profiles(name_prefix="zed") == []
    assert await profiles.find_profiles(name_prefix="lee", limit=0) == []
    assert await profiles.find_profiles(name_prefix="") == []
    assert await profiles.find_profiles(name_prefix="l.e") == []  # not a pattern


async def test_lookups_follow_changed_keys(profiles: ProfileStore) -> None:
    await profiles.put_profile(profile("p1", emails=["old@x.io"], names=["smith"]))
    await profiles.put_profile(profile("p1", emails=["new@x.io"], names=["jones"]))
    assert await profiles.find_profiles(email="old@x.io") == []
    assert await profiles.find_profiles(name_prefix="smi") == []
    assert [d.id for d in await profiles.find_profiles(email="new@x.io")] == ["p1"]
    assert [d.id for d in await profiles.find_profiles(name_prefix="jon")] == ["p1"]
