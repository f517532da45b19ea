"""The :class:`resolvers.store.Store` contract, run against every backend (see conftest)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.records import Source
from gateway.store.timeutil import utc_now
from resolvers.model import (
    HoldStatus,
    Identity,
    LedgerKind,
    LedgerResult,
    MergeLogEntry,
    StockLevel,
)
from resolvers.store import DeadLetter, ReceiptClaim, Store, VersionConflict
from tests.store.builders import T0, entry, hold, level, profile


async def held(store: Store, sku: str = "SKU-1", location: str = "loc-a") -> int:
    [stock] = await store.get_stock([sku], [location])
    return stock.held


# --- profiles --------------------------------------------------------------------------------


async def test_put_then_get_round_trips_and_bumps_version(store: Store) -> None:
    doc = profile(
        "p1", emails=["ann@example.com"], phones=["+15550001"], names=["ann", "ann lee", "lee"]
    )
    doc.refreshed_at = T0
    first = await store.put_profile(doc)
    assert first.version == 1
    second = await store.put_profile(doc)
    assert second.version == 2

    got = (await store.get_profiles(["p1", "missing"]))["p1"]
    assert got.body == {"id": "p1", "nested": {"tags": ["a"]}}
    assert got.emails == ["ann@example.com"]
    assert got.names == ["ann", "ann lee", "lee"]
    assert got.refreshed_at == T0
    assert got.refreshed_at is not None
    assert got.refreshed_at.tzinfo is not None
    assert got.version == 2
    assert set(await store.get_profiles(["p1", "missing"])) == {"p1"}


async def test_returned_profiles_are_copies(store: Store) -> None:
    stored = await store.put_profile(profile("p1", emails=["a@x.io"]))
    stored.body["nested"]["tags"].append("mutated")
    stored.emails.append("b@x.io")
    got = (await store.get_profiles(["p1"]))["p1"]
    got.body["nested"]["tags"].append("mutated again")
    again = (await store.get_profiles(["p1"]))["p1"]
    assert again.body["nested"]["tags"] == ["a"]
    assert again.emails == ["a@x.io"]
    assert await store.find_profiles(email="b@x.io") == []


async def test_expected_version_guards_concurrent_writers(store: Store) -> None:
    created = await store.put_profile(profile("p1"), expected_version=0)
    assert created.version == 1
    with pytest.raises(VersionConflict):
        await store.put_profile(profile("p1"), expected_version=0)

    winner = profile("p1")
    winner.body = {"by": "winner"}
    assert (await store.put_profile(winner, expected_version=1)).version == 2
    loser = profile("p1")
    loser.body = {"by": "loser"}
    with pytest.raises(VersionConflict):
        await store.put_profile(loser, expected_version=1)
    got = (await store.get_profiles(["p1"]))["p1"]
    assert (got.body, got.version) == ({"by": "winner"}, 2)

    with pytest.raises(VersionConflict):  # "must exist at version 3" on a missing profile
        await store.put_profile(profile("p2"), expected_version=3)
    assert await store.get_profiles(["p2"]) == {}


async def test_concurrent_versioned_writes_have_one_winner(store: Store) -> None:
    await store.put_profile(profile("p1"))

    async def write(n: int) -> int | None:
        doc = profile("p1")
        doc.body = {"writer": n}
        try:
            return (await store.put_profile(doc, expected_version=1)).version
        except VersionConflict:
            return None

    results = await asyncio.gather(*(write(n) for n in range(10)))
    assert [r for r in results if r is not None] == [2]


async def test_delete_profile_removes_it_from_lookups(store: Store) -> None:
    await store.put_profile(profile("p1", emails=["ann@x.io"], phones=["+1555"], names=["ann"]))
    assert await store.delete_profile("p1") is True
    assert await store.delete_profile("p1") is False
    assert await store.get_profiles(["p1"]) == {}
    assert await store.find_profiles(email="ann@x.io") == []
    assert await store.find_profiles(phone="+1555") == []
    assert await store.find_profiles(name_prefix="an") == []


async def test_a_deleted_profile_leaves_a_stub_that_stale_writers_cannot_overwrite(
    store: Store,
) -> None:
    live = await store.put_profile(profile("p1", emails=["ann@x.io"], names=["ann"]))
    assert await store.delete_profile("p1") is True
    # A rebuild that read the live version before the deletion loses its write.
    with pytest.raises(VersionConflict):
        await store.put_profile(profile("p1", emails=["ann@x.io"]), expected_version=live.version)
    # And one that read nothing at all (expected 0) cannot insert over the stub either.
    with pytest.raises(VersionConflict):
        await store.put_profile(profile("p1", emails=["ann@x.io"]), expected_version=0)
    assert await store.get_profiles(["p1"]) == {}
    assert await store.find_profiles(email="ann@x.io") == []
    [stub] = (await store.get_profiles(["p1"], include_retired=True)).values()
    assert stub.retired
    assert stub.version > live.version
    assert (stub.body, stub.emails, stub.phones, stub.names) == ({}, [], [], [])
    # A rebuild that read the stub (identities came back, e.g. an unmerge) revives it.
    revived = await store.put_profile(
        profile("p1", emails=["ann@x.io"]), expected_version=stub.version
    )
    assert not revived.retired
    assert (await store.get_profiles(["p1"]))["p1"].emails == ["ann@x.io"]
    assert [d.id for d in await store.find_profiles(email="ann@x.io")] == ["p1"]


async def test_deleting_a_profile_never_stored_still_blocks_a_first_insert(
    store: Store,
) -> None:
    assert await store.delete_profile("p9") is False
    with pytest.raises(VersionConflict):
        await store.put_profile(profile("p9"), expected_version=0)
    assert await store.get_profiles(["p9"]) == {}


async def test_invalidate_bumps_versions_so_stale_rebuilds_conflict(store: Store) -> None:
    live = await store.put_profile(profile("p1", emails=["ann@x.io"], refreshed_at=T0))
    assert live.refreshed_at == T0
    await store.invalidate_profiles(["p1", "p2", "p1"])
    with pytest.raises(VersionConflict):
        await store.put_profile(profile("p1"), expected_version=live.version)
    got = await store.get_profiles(["p1", "p2"])
    assert got["p1"].version == live.version + 1
    assert got["p1"].emails == ["ann@x.io"]  # the data stays, due for a rebuild
    assert got["p1"].refreshed_at is None
    # A profile with no document yet gets a body-less one, so a rebuild that read
    # "nothing" (expected 0) before the identities changed conflicts too.
    assert got["p2"].body == {}
    assert got["p2"].version == 1
    with pytest.raises(VersionConflict):
        await store.put_profile(profile("p2"), expected_version=0)


async def test_find_by_email_and_phone(store: Store) -> None:
    await store.put_profile(profile("p1", emails=["ann@x.io", "ann@work.io"], phones=["+1555"]))
    await store.put_profile(profile("p2", emails=["bob@x.io"], phones=["+1555"]))
    await store.put_profile(profile("p3", emails=["cy@x.io"], phones=["+1777"]))

    assert [d.id for d in await store.find_profiles(email="ann@work.io")] == ["p1"]
    assert sorted(d.id for d in await store.find_profiles(phone="+1555")) == ["p1", "p2"]
    assert await store.find_profiles(email="nobody@x.io") == []
    assert await store.find_profiles() == []
    assert len(await store.find_profiles(phone="+1555", limit=1)) == 1
    found = (await store.find_profiles(email="cy@x.io"))[0]
    assert found.body == {"id": "p3", "nested": {"tags": ["a"]}}


async def test_find_by_name_prefix_respects_limit(store: Store) -> None:
    for n in range(30):
        names = [f"lee{n:02d}", f"ann lee{n:02d}", "ann"] if n % 2 else [f"lee{n:02d}"]
        await store.put_profile(profile(f"p{n:02d}", names=names))
    await store.put_profile(profile("q1", names=["leon", "leon ng", "ng"]))
    await store.put_profile(profile("q2", names=["le"]))

    five = await store.find_profiles(name_prefix="lee", limit=5)
    assert len(five) == 5
    assert len({d.id for d in five}) == 5
    assert all(d.id.startswith("p") for d in five)
    assert len(await store.find_profiles(name_prefix="lee", limit=100)) == 30
    assert {d.id for d in await store.find_profiles(name_prefix="ann lee0")} == {
        "p01",
        "p03",
        "p05",
        "p07",
        "p09",
    }
    assert {d.id for d in await store.find_profiles(name_prefix="Leo")} == {"q1"}
    assert len(await store.find_profiles(name_prefix="le", limit=50)) == 32
    assert await store.find_profiles(name_prefix="zed") == []
    assert await store.find_profiles(name_prefix="lee", limit=0) == []
    assert await store.find_profiles(name_prefix="") == []
    assert await store.find_profiles(name_prefix="l.e") == []  # not a pattern


async def test_lookups_follow_changed_keys(store: Store) -> None:
    await store.put_profile(profile("p1", emails=["old@x.io"], names=["smith"]))
    await store.put_profile(profile("p1", emails=["new@x.io"], names=["jones"]))
    assert await store.find_profiles(email="old@x.io") == []
    assert await store.find_profiles(name_prefix="smi") == []
    assert [d.id for d in await store.find_profiles(email="new@x.io")] == ["p1"]
    assert [d.id for d in await store.find_profiles(name_prefix="jon")] == ["p1"]


# --- identities, merge log, tombstones ----------------------------------------------------------


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


async def test_identity_is_unique_per_source_id_and_relinking_moves_it(store: Store) -> None:
    await store.link_identities([ident(Source.SHOPIFY, "1", "p1", emails=("ann@x.io",))])
    await store.link_identities([ident(Source.SHOPIFY, "1", "p2", emails=("ann@new.io",))])

    got = await store.get_identities([(Source.SHOPIFY, "1"), (Source.SQUARE, "1")])
    assert list(got) == [(Source.SHOPIFY, "1")]
    moved = got[(Source.SHOPIFY, "1")]
    assert moved.profile_id == "p2"
    assert moved.emails == ("ann@new.io",)
    assert moved.name == "ann lee"
    assert moved.linked_at == T0
    assert moved.reason == "email"
    assert await store.identities_of(["p1", "p2"]) == {"p1": [], "p2": [moved]}
    assert await store.find_identities(emails=["ann@x.io"]) == []
    assert await store.find_identities(emails=["ann@new.io"]) == [moved]


async def test_an_older_record_never_overwrites_newer_identity_facts(store: Store) -> None:
    newer = replace(
        ident(Source.SHOPIFY, "1", "p1", emails=("new@x.io",)),
        source_updated_at=T0 + timedelta(hours=1),
    )
    older = replace(ident(Source.SHOPIFY, "1", "p1", emails=("old@x.io",)), source_updated_at=T0)
    other = replace(ident(Source.SHOPIFY, "2", "p2", emails=("cy@x.io",)), source_updated_at=T0)
    await store.link_identities([newer])
    await store.link_identities([older, other])  # the older one is refused, not the batch
    got = await store.get_identities([(Source.SHOPIFY, "1"), (Source.SHOPIFY, "2")])
    assert got[(Source.SHOPIFY, "1")].emails == ("new@x.io",)
    assert got[(Source.SHOPIFY, "1")].source_updated_at == T0 + timedelta(hours=1)
    assert got[(Source.SHOPIFY, "2")].emails == ("cy@x.io",)
    assert await store.find_identities(emails=["old@x.io"]) == []
    # The same instant is not older: a redelivery (or a move by the resolver) applies.
    await store.link_identities([replace(newer, profile_id="p3")])
    assert (await store.identities_of(["p3"]))["p3"][0].source_id == "1"
    # An undated write (a move that carries no vendor stamp) keeps the stored stamp.
    await store.link_identities([replace(newer, profile_id="p4", source_updated_at=None)])
    moved = (await store.get_identities([(Source.SHOPIFY, "1")]))[(Source.SHOPIFY, "1")]
    assert moved.profile_id == "p4"
    assert moved.source_updated_at == T0 + timedelta(hours=1)
    await store.link_identities([older])
    assert (await store.get_identities([(Source.SHOPIFY, "1")]))[(Source.SHOPIFY, "1")].emails == (
        "new@x.io",
    )


async def test_concurrent_identity_updates_keep_the_newest(store: Store) -> None:
    versions = [
        replace(
            ident(Source.SQUARE, "q", "p1", emails=(f"v{n}@x.io",)),
            source_updated_at=T0 + timedelta(minutes=n),
        )
        for n in range(12)
    ]
    await asyncio.gather(*(store.link_identities([v]) for v in reversed(versions)))
    got = (await store.get_identities([(Source.SQUARE, "q")]))[(Source.SQUARE, "q")]
    assert got.emails == ("v11@x.io",)


async def test_identities_of_and_find_identities(store: Store) -> None:
    await store.link_identities(
        [
            ident(Source.SQUARE, "sq-1", "p1", emails=("ann@x.io",), phones=("+1555",)),
            ident(Source.SHOPIFY, "sh-1", "p1", emails=("ann@x.io",)),
            ident(Source.KLAVIYO, "kl-1", "p2", phones=("+1555",)),
            ident(Source.SHOPIFY, "sh-2", "p3", emails=("cy@x.io",)),
        ]
    )
    grouped = await store.identities_of(["p1", "p2", "nobody"])
    assert [(i.source, i.source_id) for i in grouped["p1"]] == [
        (Source.SHOPIFY, "sh-1"),
        (Source.SQUARE, "sq-1"),
    ]
    assert [i.source_id for i in grouped["p2"]] == ["kl-1"]
    assert grouped["nobody"] == []

    by_phone = await store.find_identities(phones=["+1555"])
    assert sorted(i.source_id for i in by_phone) == ["kl-1", "sq-1"]
    either = await store.find_identities(emails=["cy@x.io"], phones=["+1555"])
    assert sorted(i.source_id for i in either) == ["kl-1", "sh-2", "sq-1"]
    assert await store.find_identities() == []

    assert await store.delete_identities("p1") == 2
    assert await store.delete_identities("p1") == 0
    assert (await store.identities_of(["p1"]))["p1"] == []
    assert [i.source_id for i in await store.find_identities(emails=["ann@x.io"])] == []


async def test_merge_log_is_oldest_first_and_erasable(store: Store) -> None:
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

    await store.append_merge_log(log("m3", 30, "p1", "p2"))
    await store.append_merge_log(log("m1", 10, "p1"))
    await store.append_merge_log(log("m2", 20, "p2", "p3"))
    await store.append_merge_log(log("m1", 10, "p1"))  # retried: no second entry
    await store.append_merge_log(log("m4", 30, "p1"))  # same time as m3: append order
    await store.append_merge_log(replace(log("u1", 40, "p1"), action="unmerge", undoes="m4"))

    assert [e.id for e in await store.merge_log("p1")] == ["m1", "m3", "m4", "u1"]
    assert [e.id for e in await store.merge_log("p2")] == ["m2", "m3"]
    first = (await store.merge_log("p1"))[0]
    assert first.profile_ids == ("p1",)
    assert first.before == {"p1": [["shopify", "1"]]}
    assert first.at == T0 + timedelta(minutes=10)
    assert first.undoes is None
    assert (await store.merge_log("p1"))[-1].undoes == "m4"

    assert await store.delete_merge_log("p1") == 4
    assert await store.merge_log("p1") == []
    assert [e.id for e in await store.merge_log("p2")] == ["m2"]


async def test_tombstones(store: Store) -> None:
    await store.add_tombstones(["d1", "d2", "d1"])
    await store.add_tombstones(["d2", "d3"])
    assert await store.tombstoned(["d1", "d3", "d4"]) == {"d1", "d3"}
    assert await store.tombstoned([]) == set()


# --- stock and holds ---------------------------------------------------------------------------


async def test_newer_stock_applies_and_older_is_refused(store: Store) -> None:
    assert await store.apply_stock_level(level(available=5, at=T0)) is True
    assert await store.apply_stock_level(level(available=1, at=T0 - timedelta(seconds=1))) is False
    assert await store.apply_stock_level(level(available=8, at=T0 + timedelta(seconds=1))) is True
    assert await store.apply_stock_level(level(available=2, at=T0 + timedelta(seconds=1))) is False
    [stock] = await store.get_stock(["SKU-1"])
    assert stock.quantities["available"] == 8
    assert stock.updated_at == T0 + timedelta(seconds=1)
    assert stock.source is Source.SHOPIFY


async def test_a_partial_level_keeps_the_other_quantities(store: Store) -> None:
    await store.apply_stock_level(level(available=5, safety=2, at=T0))
    only_available = StockLevel(
        sku="SKU-1",
        location_id="loc-a",
        quantities={"available": 3},
        updated_at=T0 + timedelta(seconds=1),
        source=Source.SHOPIFY,
    )
    assert await store.apply_stock_level(only_available) is True
    [stock] = await store.get_stock(["SKU-1"])
    assert stock.quantities == {"available": 3, "on_hand": 5, "safety_stock": 2}
    assert stock.sellable == 1


async def test_concurrent_stock_events_keep_the_newest(store: Store) -> None:
    levels = [level(available=n, at=T0 + timedelta(seconds=n)) for n in range(1, 21)]
    results = await asyncio.gather(*(store.apply_stock_level(lv) for lv in reversed(levels)))
    assert results[0] is True  # the newest always lands
    [stock] = await store.get_stock(["SKU-1"])
    assert stock.quantities["available"] == 20


async def test_get_stock_filters_by_sku_and_location(store: Store) -> None:
    for sku in ("A", "B"):
        for location in ("l1", "l2"):
            await store.apply_stock_level(level(sku, location))
    got = await store.get_stock(["B", "A", "C"])
    assert [(s.sku, s.location_id) for s in got] == [
        ("A", "l1"),
        ("A", "l2"),
        ("B", "l1"),
        ("B", "l2"),
    ]
    assert [(s.sku, s.location_id) for s in await store.get_stock(["A"], ["l2"])] == [("A", "l2")]
    assert await store.get_stock([]) == []
    assert await store.get_stock(["A"], []) == []


async def test_held_survives_level_updates(store: Store) -> None:
    await store.apply_stock_level(level(available=5, safety=1, at=T0))
    assert await store.create_hold(hold("h1", qty=2)) is not None
    assert await store.apply_stock_level(level(available=9, safety=1, at=T0 + timedelta(hours=1)))
    [stock] = await store.get_stock(["SKU-1"], ["loc-a"])
    assert stock.held == 2
    assert stock.sellable == 9 - 1 - 2


async def test_concurrent_holds_never_oversell(store: Store) -> None:
    await store.apply_stock_level(level(available=7, safety=2))  # 5 sellable
    results = await asyncio.gather(*(store.create_hold(hold(f"h{n}")) for n in range(20)))
    winners = [h for h in results if h is not None]
    assert len(winners) == 5
    assert len({h.id for h in winners}) == 5
    assert await held(store) == 5
    assert await store.create_hold(hold("late")) is None
    assert (await store.get_stock(["SKU-1"]))[0].sellable == 0


async def test_two_shoppers_for_the_last_unit(store: Store) -> None:
    await store.apply_stock_level(level(available=1))
    a, b = await asyncio.gather(store.create_hold(hold("ha")), store.create_hold(hold("hb")))
    assert (a is None) != (b is None)
    assert await held(store) == 1


async def test_hold_needs_stock(store: Store) -> None:
    assert await store.create_hold(hold("h1", sku="UNKNOWN")) is None
    await store.apply_stock_level(level(available=2))
    assert await store.create_hold(hold("h2", qty=3)) is None
    assert await held(store) == 0
    assert await store.get_hold("h2") is None


async def test_idempotency_key_returns_the_same_hold(store: Store) -> None:
    await store.apply_stock_level(level(available=10))
    first = await store.create_hold(hold("h1", qty=2, key="cart-42"))
    assert first is not None
    again = await store.create_hold(hold("h2", qty=2, key="cart-42"))
    assert again == first
    assert await held(store) == 2

    racing = await asyncio.gather(
        *(store.create_hold(hold(f"r{n}", key="cart-7")) for n in range(8))
    )
    assert all(h is not None for h in racing)
    assert len({h.id for h in racing if h is not None}) == 1
    assert await held(store) == 3
    assert await store.get_hold("h2") is None

    # A retried request (same hold id, no key) is the same hold, even once stock ran out.
    solo = await store.create_hold(hold("solo"))
    assert solo is not None
    await store.apply_stock_level(level(available=4, at=T0 + timedelta(hours=1)))
    assert (await store.get_stock(["SKU-1"]))[0].sellable == 0
    assert await store.create_hold(hold("solo")) == solo
    assert await store.create_hold(hold("h1", qty=2, key="cart-42")) == first
    assert await store.create_hold(hold("other")) is None
    assert await held(store) == 4


async def test_finishing_twice_gives_units_back_once(store: Store) -> None:
    await store.apply_stock_level(level(available=3))
    created = await store.create_hold(hold("h1", qty=2))
    assert created is not None
    assert created.expires_at.tzinfo is not None

    results = await asyncio.gather(
        *(store.finish_hold("h1", HoldStatus.RELEASED) for _ in range(5)),
        store.finish_hold("h1", HoldStatus.COMPLETED),
    )
    finished = [r for r in results if r is not None]
    assert len(finished) == 1
    assert finished[0].status in (HoldStatus.RELEASED, HoldStatus.COMPLETED)
    assert await held(store) == 0
    assert await store.finish_hold("h1", HoldStatus.EXPIRED) is None
    assert await held(store) == 0
    stored = await store.get_hold("h1")
    assert stored is not None
    assert stored.status == finished[0].status
    assert await store.finish_hold("missing", HoldStatus.RELEASED) is None


async def test_expired_holds(store: Store) -> None:
    await store.apply_stock_level(level(available=10))
    for n, minutes in enumerate([5, -10, -1, -30, 0]):
        await store.create_hold(hold(f"h{n}", expires=T0 + timedelta(minutes=minutes)))
    await store.finish_hold("h3", HoldStatus.COMPLETED)  # past due but no longer active

    due = await store.expired_holds(T0)
    assert [h.id for h in due] == ["h1", "h2", "h4"]
    assert all(h.status is HoldStatus.ACTIVE for h in due)
    assert [h.id for h in await store.expired_holds(T0, limit=1)] == ["h1"]
    assert await store.expired_holds(T0 - timedelta(hours=1)) == []


# --- loyalty -----------------------------------------------------------------------------------


async def test_earn_and_duplicate_key_has_one_effect(store: Store) -> None:
    result, account = await store.apply_ledger_entry(entry("earn:sq:order:1", 120))
    assert result is LedgerResult.APPLIED
    assert (account.balance, account.lifetime_earned) == (120, 120)
    result, account = await store.apply_ledger_entry(entry("earn:sq:order:1", 120))
    assert result is LedgerResult.DUPLICATE
    assert account.balance == 120
    assert len(await store.ledger_entries("acct-1")) == 1
    stored = await store.get_account("acct-1")
    assert stored is not None
    assert stored.balance == 120
    assert await store.get_account("nobody") is None


async def test_concurrent_duplicates_apply_once(store: Store) -> None:
    results = await asyncio.gather(
        *(store.apply_ledger_entry(entry("earn:shopify:order:9", 50)) for _ in range(10))
    )
    assert [r for r, _ in results].count(LedgerResult.APPLIED) == 1
    assert all(r in (LedgerResult.APPLIED, LedgerResult.DUPLICATE) for r, _ in results)
    account = await store.get_account("acct-1")
    assert account is not None
    assert account.balance == 50


async def test_redeem_beyond_balance_is_refused_and_writes_nothing(store: Store) -> None:
    await store.apply_ledger_entry(entry("earn:1", 100))
    result, account = await store.apply_ledger_entry(entry("redeem:1", -101))
    assert result is LedgerResult.INSUFFICIENT_BALANCE
    assert account.balance == 100
    assert [e.key for e in await store.ledger_entries("acct-1")] == ["earn:1"]

    result, account = await store.apply_ledger_entry(entry("redeem:1", -100))
    assert result is LedgerResult.APPLIED  # the refused key was not consumed
    assert (account.balance, account.lifetime_earned, account.lifetime_redeemed) == (0, 100, 100)

    result, account = await store.apply_ledger_entry(entry("redeem:new", -1, account="acct-new"))
    assert result is LedgerResult.INSUFFICIENT_BALANCE
    assert account.balance == 0
    assert await store.get_account("acct-new") is None


async def test_concurrent_redeems_never_go_negative(store: Store) -> None:
    await store.apply_ledger_entry(entry("earn:1", 100))
    results = await asyncio.gather(
        *(store.apply_ledger_entry(entry(f"redeem:{n}", -15)) for n in range(20))
    )
    applied = [r for r, _ in results if r is LedgerResult.APPLIED]
    assert len(applied) == 6
    assert all(account.balance >= 0 for _, account in results)
    account = await store.get_account("acct-1")
    assert account is not None
    assert (account.balance, account.lifetime_redeemed) == (10, 90)
    assert len(await store.ledger_entries("acct-1")) == 7


async def test_ledger_entries_newest_first(store: Store) -> None:
    for n, minutes in enumerate([0, 2, 4, 1, 4]):
        earned = replace(entry(f"earn:{n}", 10), at=T0 + timedelta(minutes=minutes))
        await store.apply_ledger_entry(earned)
    entries = await store.ledger_entries("acct-1")
    # Newest first; of the two at minute 4 the later-appended comes first.
    assert [e.key for e in entries] == ["earn:4", "earn:2", "earn:1", "earn:3", "earn:0"]
    assert [e.key for e in await store.ledger_entries("acct-1", limit=2)] == ["earn:4", "earn:2"]
    assert await store.ledger_entries("acct-1", limit=0) == []
    oldest = entries[-1]
    assert (oldest.source, oldest.channel, oldest.location_id, oldest.order_ref) == (
        Source.SQUARE,
        "in_store",
        "loc-a",
        "order-1",
    )
    assert oldest.meta == {"staff": "s-1"}
    assert oldest.kind is LedgerKind.EARN
    assert oldest.at == T0


async def test_anonymise_account(store: Store) -> None:
    await store.apply_ledger_entry(entry("earn:1", 100))
    await store.apply_ledger_entry(entry("redeem:1", -30))
    await store.apply_ledger_entry(entry("earn:other", 5, account="acct-2"))

    assert await store.anonymise_account("acct-1", "anon-1") == 2
    assert await store.get_account("acct-1") is None
    assert await store.ledger_entries("acct-1") == []
    anon = await store.get_account("anon-1")
    assert anon is not None
    assert (anon.balance, anon.lifetime_earned, anon.lifetime_redeemed) == (70, 100, 30)
    entries = await store.ledger_entries("anon-1")
    assert sorted(e.key for e in entries) == ["earn:1", "redeem:1"]
    assert all(e.meta == {} and e.account_id == "anon-1" for e in entries)
    # The keys stay taken: a replayed order webhook must not earn again for nobody.
    result, _ = await store.apply_ledger_entry(entry("earn:1", 100))
    assert result is LedgerResult.DUPLICATE
    other = await store.get_account("acct-2")
    assert other is not None
    assert other.balance == 5


# --- webhooks, checkpoints, health --------------------------------------------------------------


async def test_receipts_dedupe_replays(store: Store) -> None:
    assert await store.record_receipt(Source.SHOPIFY, "evt-1", T0) is True
    assert await store.record_receipt(Source.SHOPIFY, "evt-1", T0 + timedelta(seconds=5)) is False
    assert await store.record_receipt(Source.SQUARE, "evt-1", T0) is True
    await store.release_receipt(Source.SHOPIFY, "evt-1")
    assert await store.record_receipt(Source.SHOPIFY, "evt-1", T0 + timedelta(seconds=9)) is True
    replays = await asyncio.gather(
        *(store.record_receipt(Source.KLAVIYO, "evt-2", T0) for _ in range(10))
    )
    assert replays.count(True) == 1


async def test_checkpoints_round_trip(store: Store) -> None:
    assert await store.get_checkpoint("shopify:orders") is None
    value = {"cursor": "abc", "since": T0, "pages": [1, 2]}
    await store.set_checkpoint("shopify:orders", value)
    got = await store.get_checkpoint("shopify:orders")
    assert got == value
    assert got is not None
    assert got["since"].tzinfo is not None
    await store.set_checkpoint("shopify:orders", {"cursor": "def"})
    assert await store.get_checkpoint("shopify:orders") == {"cursor": "def"}


async def test_a_lease_has_one_holder_until_it_expires(store: Store) -> None:
    ttl = timedelta(seconds=60)
    assert await store.take_lease("sync", "a", now=T0, ttl=ttl) is True
    assert await store.take_lease("sync", "b", now=T0 + timedelta(seconds=59), ttl=ttl) is False
    # The holder renews; the renewal moves the expiry on.
    assert await store.take_lease("sync", "a", now=T0 + timedelta(seconds=50), ttl=ttl) is True
    assert await store.take_lease("sync", "b", now=T0 + timedelta(seconds=100), ttl=ttl) is False
    # Expired: anyone may take it, and then the old holder may not.
    assert await store.take_lease("sync", "b", now=T0 + timedelta(seconds=110), ttl=ttl) is True
    assert await store.take_lease("sync", "a", now=T0 + timedelta(seconds=111), ttl=ttl) is False
    # Another lease is independent.
    assert await store.take_lease("other", "a", now=T0, ttl=ttl) is True


async def test_a_lease_is_released_only_by_its_holder(store: Store) -> None:
    ttl = timedelta(seconds=60)
    assert await store.take_lease("sync", "a", now=T0, ttl=ttl) is True
    await store.release_lease("sync", "b")
    assert await store.take_lease("sync", "b", now=T0, ttl=ttl) is False
    await store.release_lease("sync", "a")
    assert await store.take_lease("sync", "b", now=T0, ttl=ttl) is True


async def test_racing_replicas_get_one_lease(store: Store) -> None:
    ttl = timedelta(seconds=60)
    first = await asyncio.gather(
        *(store.take_lease("sync", f"r{i}", now=T0, ttl=ttl) for i in range(10))
    )
    assert first.count(True) == 1
    # And again once it has expired: the race is for an existing document this time.
    later = T0 + timedelta(minutes=5)
    second = await asyncio.gather(
        *(store.take_lease("sync", f"s{i}", now=later, ttl=ttl) for i in range(10))
    )
    assert second.count(True) == 1


async def test_ping(store: Store) -> None:
    assert await store.ping() is True
    assert store.kind in ("memory", "mongo")


# --- webhook claims and dead letters --------------------------------------------------------------

LEASE = timedelta(minutes=5)


async def test_a_claim_is_in_flight_until_completed_then_a_duplicate(store: Store) -> None:
    claim = store.claim_receipt
    assert await claim(Source.SHOPIFY, "evt-1", T0, lease=LEASE) is ReceiptClaim.CLAIMED
    later = T0 + timedelta(seconds=30)
    assert await claim(Source.SHOPIFY, "evt-1", later, lease=LEASE) is ReceiptClaim.IN_FLIGHT
    assert await claim(Source.SQUARE, "evt-1", later, lease=LEASE) is ReceiptClaim.CLAIMED
    await store.complete_receipt(Source.SHOPIFY, "evt-1")
    assert await claim(Source.SHOPIFY, "evt-1", later, lease=LEASE) is ReceiptClaim.DUPLICATE
    # Long after the lease, a finished receipt is still a duplicate.
    much_later = T0 + timedelta(hours=1)
    assert await claim(Source.SHOPIFY, "evt-1", much_later, lease=LEASE) is ReceiptClaim.DUPLICATE


async def test_a_released_claim_can_be_claimed_again(store: Store) -> None:
    assert await store.claim_receipt(Source.SHOPIFY, "body:ab", T0, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    await store.release_receipt(Source.SHOPIFY, "body:ab")
    again = await store.claim_receipt(Source.SHOPIFY, "body:ab", T0, lease=LEASE)
    assert again is ReceiptClaim.CLAIMED


async def test_an_abandoned_claim_is_taken_over_after_its_lease(store: Store) -> None:
    """The attempt that claimed it died, or could not release it because the store was down:
    the vendor's retry after the lease is applied, not dropped as a duplicate."""
    assert await store.claim_receipt(Source.SHOPIFY, "evt-9", T0, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    just_before = T0 + LEASE - timedelta(seconds=1)
    assert await store.claim_receipt(Source.SHOPIFY, "evt-9", just_before, lease=LEASE) is (
        ReceiptClaim.IN_FLIGHT
    )
    after = T0 + LEASE + timedelta(seconds=1)
    assert await store.claim_receipt(Source.SHOPIFY, "evt-9", after, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    # The new claim has its own lease.
    soon = after + timedelta(seconds=10)
    assert await store.claim_receipt(Source.SHOPIFY, "evt-9", soon, lease=LEASE) is (
        ReceiptClaim.IN_FLIGHT
    )


async def test_concurrent_claims_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(
        *(store.claim_receipt(Source.SQUARE, "evt-race", T0, lease=LEASE) for _ in range(10))
    )
    assert results.count(ReceiptClaim.CLAIMED) == 1
    assert results.count(ReceiptClaim.IN_FLIGHT) == 9
    after = T0 + LEASE * 2
    takeovers = await asyncio.gather(
        *(store.claim_receipt(Source.SQUARE, "evt-race", after, lease=LEASE) for _ in range(10))
    )
    assert takeovers.count(ReceiptClaim.CLAIMED) == 1


async def test_a_receipt_recorded_the_old_way_is_a_duplicate_for_claims(store: Store) -> None:
    assert await store.record_receipt(Source.SHOPIFY, "evt-old", T0) is True
    assert await store.claim_receipt(Source.SHOPIFY, "evt-old", T0, lease=LEASE) is (
        ReceiptClaim.DUPLICATE
    )
    assert await store.claim_receipt(Source.SHOPIFY, "evt-new", T0, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    assert await store.record_receipt(Source.SHOPIFY, "evt-new", T0) is False


def letter(digest: str = "d1", **fields: object) -> DeadLetter:
    base: dict[str, object] = {
        "source": Source.SHOPIFY,
        "body_digest": digest,
        "reason": "customers/update: email: Input should be a valid string",
        "received_at": utc_now(),
        "body": b'{"id": 1, "email": 123}\xff',
        "topic": "customers/update",
        "event_id": "evt-1",
        "headers": {"x-shopify-topic": "customers/update", "x-shopify-hmac-sha256": "c2ln"},
    }
    base.update(fields)
    return DeadLetter(**base)  # type: ignore[arg-type]


async def test_dead_letters_round_trip_with_their_raw_body(store: Store) -> None:
    assert await store.count_dead_letters() == 0
    kept = letter()
    assert await store.put_dead_letter(kept) is True
    (got,) = await store.dead_letters()
    assert got == kept
    assert got.body == b'{"id": 1, "email": 123}\xff'
    assert await store.dead_letter(Source.SHOPIFY, "d1") == kept
    assert await store.dead_letter(Source.SQUARE, "d1") is None
    assert await store.count_dead_letters() == 1


async def test_a_redelivered_body_keeps_one_dead_letter(store: Store) -> None:
    assert await store.put_dead_letter(letter(reason="first")) is True
    assert await store.put_dead_letter(letter(reason="second")) is False
    (got,) = await store.dead_letters()
    assert (got.deliveries, got.reason) == (2, "second")
    # Same digest, another vendor: another letter.
    assert await store.put_dead_letter(letter(source=Source.SQUARE)) is True
    assert await store.count_dead_letters() == 2


async def test_concurrent_first_deliveries_store_one_dead_letter(store: Store) -> None:
    results = await asyncio.gather(*(store.put_dead_letter(letter("race")) for _ in range(10)))
    assert results.count(True) == 1
    (got,) = await store.dead_letters()
    assert got.deliveries == 10


async def test_dead_letters_are_listed_newest_first_and_by_source(store: Store) -> None:
    now = utc_now()
    await store.put_dead_letter(letter("old", received_at=now - timedelta(hours=2)))
    await store.put_dead_letter(letter("new", received_at=now))
    await store.put_dead_letter(
        letter("sq", source=Source.SQUARE, received_at=now - timedelta(hours=1))
    )
    assert [d.body_digest for d in await store.dead_letters()] == ["new", "sq", "old"]
    assert [d.body_digest for d in await store.dead_letters(limit=1)] == ["new"]
    assert [d.body_digest for d in await store.dead_letters(Source.SQUARE)] == ["sq"]
    assert await store.delete_dead_letter(Source.SHOPIFY, "old") is True
    assert await store.delete_dead_letter(Source.SHOPIFY, "old") is False
    assert await store.count_dead_letters() == 2
