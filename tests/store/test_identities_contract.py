"""The :class:`~resolvers.store.IdentityStore` contract: identities, the merge log and
tombstones, on every backend (see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from connectors.records import Source
from resolvers.model import Identity, MergeLogEntry
from resolvers.store import IdentityStore
from tests.store.builders import T0


def ident(
    source: Source,
    sid: str,
    pid: str,
    *,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
) -> Identity:
    return Identity(
        source=source,
        source_id=sid,
        profile_id=pid,
        emails=emails,
        phones=phones,
        name="ann lee",
        linked_at=T0,
        reason="email",
    )


async def test_identity_is_unique_per_source_id_and_relinking_moves_it(
    identities: IdentityStore,
) -> None:
    await identities.link_identities([ident(Source("shopify"), "1", "p1", emails=("ann@x.io",))])
    await identities.link_identities([ident(Source("shopify"), "1", "p2", emails=("ann@new.io",))])

    got = await identities.get_identities([(Source("shopify"), "1"), (Source("square"), "1")])
    assert list(got) == [(Source("shopify"), "1")]
    moved = got[(Source("shopify"), "1")]
    assert moved.profile_id == "p2"
    assert moved.emails == ("ann@new.io",)
    assert moved.name == "ann lee"
    assert moved.linked_at == T0
    assert moved.reason == "email"
    assert await identities.identities_of(["p1", "p2"]) == {"p1": [], "p2": [moved]}
    assert await identities.find_identities(emails=["ann@x.io"]) == []
    assert await identities.find_identities(emails=["ann@new.io"]) == [moved]


async def test_an_older_record_never_overwrites_newer_identity_facts(
    identities: IdentityStore,
) -> None:
    newer = replace(
        ident(Source("shopify"), "1", "p1", emails=("new@x.io",)),
        source_updated_at=T0 + timedelta(hours=1),
    )
    older = replace(ident(Source("shopify"), "1", "p1", emails=("old@x.io",)), source_updated_at=T0)
    other = replace(ident(Source("shopify"), "2", "p2", emails=("cy@x.io",)), source_updated_at=T0)
    await identities.link_identities([newer])
    await identities.link_identities([older, other])  # the older one is refused, not the batch
    got = await identities.get_identities([(Source("shopify"), "1"), (Source("shopify"), "2")])
    assert got[(Source("shopify"), "1")].emails == ("new@x.io",)
    assert got[(Source("shopify"), "1")].source_updated_at == T0 + timedelta(hours=1)
    assert got[(Source("shopify"), "2")].emails == ("cy@x.io",)
    assert await identities.find_identities(emails=["old@x.io"]) == []
    # The same instant is not older: a redelivery (or a move by the resolver) applies.
    await identities.link_identities([replace(newer, profile_id="p3")])
    assert (await identities.identities_of(["p3"]))["p3"][0].source_id == "1"
    # An undated write (a move that carries no vendor stamp) keeps the stored stamp.
    await identities.link_identities([replace(newer, profile_id="p4", source_updated_at=None)])
    moved = (await identities.get_identities([(Source("shopify"), "1")]))[(Source("shopify"), "1")]
    assert moved.profile_id == "p4"
    assert moved.source_updated_at == T0 + timedelta(hours=1)
    await identities.link_identities([older])
    assert (await identities.get_identities([(Source("shopify"), "1")]))[
        (Source("shopify"), "1")
    ].emails == ("new@x.io",)


async def test_concurrent_identity_updates_keep_the_newest(identities: IdentityStore) -> None:
    versions = [
        replace(
            ident(Source("square"), "q", "p1", emails=(f"v{n}@x.io",)),
            source_updated_at=T0 + timedelta(minutes=n),
        )
        for n in range(12)
    ]
    await asyncio.gather(*(identities.link_identities([v]) for v in reversed(versions)))
    got = (await identities.get_identities([(Source("square"), "q")]))[(Source("square"), "q")]
    assert got.emails == ("v11@x.io",)


async def test_identities_of_and_find_identities(identities: IdentityStore) -> None:
    await identities.link_identities(
        [
            ident(Source("square"), "sq-1", "p1", emails=("ann@x.io",), phones=("+1555",)),
            ident(Source("shopify"), "sh-1", "p1", emails=("ann@x.io",)),
            ident(Source("klaviyo"), "kl-1", "p2", phones=("+1555",)),
            ident(Source("shopify"), "sh-2", "p3", emails=("cy@x.io",)),
        ]
    )
    grouped = await identities.identities_of(["p1", "p2", "nobody"])
    assert [(i.source, i.source_id) for i in grouped["p1"]] == [
        (Source("shopify"), "sh-1"),
        (Source("square"), "sq-1"),
    ]
    assert [i.source_id for i in grouped["p2"]] == ["kl-1"]
    assert grouped["nobody"] == []

    by_phone = await identities.find_identities(phones=["+1555"])
    assert sorted(i.source_id for i in by_phone) == ["kl-1", "sq-1"]
    either = await identities.find_identities(emails=["cy@x.io"], phones=["+1555"])
    assert sorted(i.source_id for i in either) == ["kl-1", "sh-2", "sq-1"]
    assert await identities.find_identities() == []

    assert await identities.delete_identities("p1") == 2
    assert await identities.delete_identities("p1") == 0
    assert (await identities.identities_of(["p1"]))["p1"] == []
    assert [i.source_id for i in await identities.find_identities(emails=["ann@x.io"])] == []


async def test_merge_log_is_oldest_first_and_erasable(identities: IdentityStore) -> None:
    def log(eid: str, minutes: int, *pids: str) -> MergeLogEntry:
        return MergeLogEntry(
            id=eid,
            action="merge",
            profile_ids=pids,
            reason="same email",
            at=T0 + timedelta(minutes=minutes),
            actor="resolver",
            before={"p1": [["shopify", "1"]]},
        )

    await identities.append_merge_log(log("m3", 30, "p1", "p2"))
    await identities.append_merge_log(log("m1", 10, "p1"))
    await identities.append_merge_log(log("m2", 20, "p2", "p3"))
    await identities.append_merge_log(log("m1", 10, "p1"))  # retried: no second entry
    await identities.append_merge_log(log("m4", 30, "p1"))  # same time as m3: append order
    await identities.append_merge_log(replace(log("u1", 40, "p1"), action="unmerge", undoes="m4"))

    assert [e.id for e in await identities.merge_log("p1")] == ["m1", "m3", "m4", "u1"]
    assert [e.id for e in await identities.merge_log("p2")] == ["m2", "m3"]
    first = (await identities.merge_log("p1"))[0]
    assert first.profile_ids == ("p1",)
    assert first.before == {"p1": [["shopify", "1"]]}
    assert first.at == T0 + timedelta(minutes=10)
    assert first.undoes is None
    assert (await identities.merge_log("p1"))[-1].undoes == "m4"

    assert await identities.delete_merge_log("p1") == 4
    assert await identities.merge_log("p1") == []
    assert [e.id for e in await identities.merge_log("p2")] == ["m2"]


async def test_tombstones(identities: IdentityStore) -> None:
    await identities.add_tombstones(["d1", "d2", "d1"])
    await identities.add_tombstones(["d2", "d3"])
    assert await identities.tombstoned(["d1", "d3", "d4"]) == {"d1", "d3"}
    assert await identities.tombstoned([]) == set()
