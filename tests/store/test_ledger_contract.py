"""The :class:`~resolvers.store.LedgerStore` contract: one effect per key, never a negative
balance, on every backend (see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from connectors.records import Source
from resolvers.model import LedgerKind, LedgerResult
from resolvers.store import LedgerStore
from tests.store.builders import T0, entry


async def test_earn_and_duplicate_key_has_one_effect(ledger: LedgerStore) -> None:
    result, account = await ledger.apply_ledger_entry(entry("earn:sq:order:1", 120))
    assert result is LedgerResult.APPLIED
    assert (account.balance, account.lifetime_earned) == (120, 120)
    result, account = await ledger.apply_ledger_entry(entry("earn:sq:order:1", 120))
    assert result is LedgerResult.DUPLICATE
    assert account.balance == 120
    assert len(await ledger.ledger_entries("acct-1")) == 1
    stored = await ledger.get_account("acct-1")
    assert stored is not None
    assert stored.balance == 120
    assert await ledger.get_account("nobody") is None


async def test_concurrent_duplicates_apply_once(ledger: LedgerStore) -> None:
    results = await asyncio.gather(
        *(ledger.apply_ledger_entry(entry("earn:shopify:order:9", 50)) for _ in range(10))
    )
    assert [r for r, _ in results].count(LedgerResult.APPLIED) == 1
    assert all(r in (LedgerResult.APPLIED, LedgerResult.DUPLICATE) for r, _ in results)
    account = await ledger.get_account("acct-1")
    assert account is not None
    assert account.balance == 50


async def test_redeem_beyond_balance_is_refused_and_writes_nothing(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 100))
    result, account = await ledger.apply_ledger_entry(entry("redeem:1", -101))
    assert result is LedgerResult.INSUFFICIENT_BALANCE
    assert account.balance == 100
    assert [e.key for e in await ledger.ledger_entries("acct-1")] == ["earn:1"]

    result, account = await ledger.apply_ledger_entry(entry("redeem:1", -100))
    assert result is LedgerResult.APPLIED  # the refused key was not consumed
    assert (account.balance, account.lifetime_earned, account.lifetime_redeemed) == (0, 100, 100)

    result, account = await ledger.apply_ledger_entry(entry("redeem:new", -1, account="acct-new"))
    assert result is LedgerResult.INSUFFICIENT_BALANCE
    assert account.balance == 0
    assert await ledger.get_account("acct-new") is None


async def test_concurrent_redeems_never_go_negative(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 100))
    results = await asyncio.gather(
        *(ledger.apply_ledger_entry(entry(f"redeem:{n}", -15)) for n in range(20))
    )
    applied = [r for r, _ in results if r is LedgerResult.APPLIED]
    assert len(applied) == 6
    assert all(account.balance >= 0 for _, account in results)
    account = await ledger.get_account("acct-1")
    assert account is not None
    assert (account.balance, account.lifetime_redeemed) == (10, 90)
    assert len(await ledger.ledger_entries("acct-1")) == 7


async def test_ledger_entries_newest_first(ledger: LedgerStore) -> None:
    for n, minutes in enumerate([0, 2, 4, 1, 4]):
        earned = replace(entry(f"earn:{n}", 10), at=T0 + timedelta(minutes=minutes))
        await ledger.apply_ledger_entry(earned)
    entries = await ledger.ledger_entries("acct-1")
    # Newest first; of the two at minute 4 the later-appended comes first.
    assert [e.key for e in entries] == ["earn:4", "earn:2", "earn:1", "earn:3", "earn:0"]
    assert [e.key for e in await ledger.ledger_entries("acct-1", limit=2)] == ["earn:4", "earn:2"]
    assert await ledger.ledger_entries("acct-1", limit=0) == []
    oldest = entries[-1]
    assert (oldest.source, oldest.channel, oldest.location_id, oldest.order_ref) == (
        Source("square"),
        "in_store",
        "loc-a",
        "order-1",
    )
    assert oldest.meta == {"staff": "s-1"}
    assert oldest.kind is LedgerKind.EARN
    assert oldest.at == T0


async def test_anonymise_account(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 100))
    await ledger.apply_ledger_entry(entry("redeem:1", -30))
    await ledger.apply_ledger_entry(entry("earn:other", 5, account="acct-2"))

    assert await ledger.anonymise_account("acct-1", "anon-1") == 2
    assert await ledger.get_account("acct-1") is None
    assert await ledger.ledger_entries("acct-1") == []
    anon = await ledger.get_account("anon-1")
    assert anon is not None
    assert (anon.balance, anon.lifetime_earned, anon.lifetime_redeemed) == (70, 100, 30)
    entries = await ledger.ledger_entries("anon-1")
    assert sorted(e.key for e in entries) == ["earn:1", "redeem:1"]
    assert all(e.meta == {} and e.account_id == "anon-1" for e in entries)
    # The keys stay taken: a replayed order webhook must not earn again for nobody.
    result, _ = await ledger.apply_ledger_entry(entry("earn:1", 100))
    assert result is LedgerResult.DUPLICATE
    other = await ledger.get_account("acct-2")
    assert other is not None
    assert other.balance == 5
