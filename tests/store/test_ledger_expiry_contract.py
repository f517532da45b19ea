"""Expiry's two store steps on every backend: which accounts are due (points, and no
movement since a moment), and the expiry entry that lands only while the account has not
moved since it was read, so a racing earn or redemption is never lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from gateway.store.timeutil import utc_now
from resolvers.model import LedgerEntry, LedgerKind, LedgerResult, LoyaltyAccount
from resolvers.store import LedgerStore
from tests.store.builders import T0, entry


def expiry_of(account: LoyaltyAccount) -> LedgerEntry:
    assert account.updated_at is not None
    return LedgerEntry(
        key=f"expire:{account.id}:{account.updated_at.isoformat()}",
        account_id=account.id,
        points=-account.balance,
        kind=LedgerKind.EXPIRE,
        at=utc_now(),
        reason="no movement",
    )


async def later() -> None:
    """Let the store's clock pass a millisecond (its timestamps' resolution)."""
    await asyncio.sleep(0.002)


async def test_due_accounts_have_points_and_no_recent_movement(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("e-a", 100, account="acct-a"))
    await later()
    # Later by the store's clock and by the entry's own time, whichever stamps movements.
    b = replace(entry("e-b", 40, account="acct-b"), at=T0 + timedelta(hours=1))
    await ledger.apply_ledger_entry(b)
    await ledger.apply_ledger_entry(entry("e-c", 10, account="acct-c"))
    await ledger.apply_ledger_entry(entry("r-c", -10, account="acct-c"))  # nothing left
    future = utc_now() + timedelta(days=1)
    due = await ledger.inactive_accounts(future, limit=10)
    assert [a.id for a in due] == ["acct-a", "acct-b"]
    assert [a.balance for a in due] == [100, 40]
    assert [a.id for a in await ledger.inactive_accounts(future, limit=1)] == ["acct-a"]
    assert await ledger.inactive_accounts(future, limit=0) == []
    account_b = await ledger.get_account("acct-b")
    assert account_b is not None
    assert account_b.updated_at is not None
    # Only those whose last movement is strictly before the moment.
    before_b = await ledger.inactive_accounts(account_b.updated_at, limit=10)
    assert [a.id for a in before_b] == ["acct-a"]
    assert await ledger.inactive_accounts(T0) == []  # none moved before T0


async def test_expiry_lands_once_while_unmoved(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("e-1", 120))
    (account,) = await ledger.inactive_accounts(utc_now() + timedelta(days=1))
    assert account.updated_at is not None
    expire = expiry_of(account)
    result, after = await ledger.apply_if_unmoved(expire, seen=account)
    assert result is LedgerResult.APPLIED
    assert after.balance == 0
    assert after.lifetime_earned == 120  # lapsing is not un-earning
    stored = await ledger.get_entry(expire.key)
    assert stored is not None
    assert (stored.kind, stored.points, stored.reason) == (LedgerKind.EXPIRE, -120, "no movement")
    again, _ = await ledger.apply_if_unmoved(expire, seen=account)
    assert again in (LedgerResult.MOVED, LedgerResult.DUPLICATE)  # moved by itself, or same key
    assert await ledger.inactive_accounts(utc_now() + timedelta(days=1)) == []
    entries = await ledger.ledger_entries("acct-1")
    assert [e.kind for e in entries].count(LedgerKind.EXPIRE) == 1


async def test_an_account_that_moved_since_it_was_read_does_not_lapse(
    ledger: LedgerStore,
) -> None:
    await ledger.apply_ledger_entry(entry("e-1", 100))
    (read,) = await ledger.inactive_accounts(utc_now() + timedelta(days=1))
    assert read.updated_at is not None
    await later()
    await ledger.apply_ledger_entry(entry("r-1", -30))  # the member redeemed meanwhile
    result, account = await ledger.apply_if_unmoved(expiry_of(read), seen=read)
    assert result is LedgerResult.MOVED
    assert account.balance == 70
    assert await ledger.get_entry(expiry_of(read).key) is None


async def test_expiry_racing_earns_and_redemptions_loses_neither(ledger: LedgerStore) -> None:
    """Whatever order the store serialises them in: either the expiry landed first (and
    the balance is what the others did after it, clamped) or it found the account moved;
    the balance is always the sum of the entries and never negative."""
    for round_ in range(5):
        account_id = f"acct-{round_}"
        await ledger.apply_ledger_entry(entry(f"e-{round_}", 100, account=account_id))
        (read,) = [
            a
            for a in await ledger.inactive_accounts(utc_now() + timedelta(days=1), limit=50)
            if a.id == account_id
        ]
        assert read.updated_at is not None
        expire = expiry_of(read)
        await later()
        earn = entry(f"e2-{round_}", 25, account=account_id)
        redeem = entry(f"r-{round_}", -20, account=account_id)
        results = await asyncio.gather(
            ledger.apply_if_unmoved(expire, seen=read),
            ledger.apply_ledger_entry(earn),
            ledger.apply_ledger_entry(redeem),
        )
        expired = results[0][0]
        assert expired in (LedgerResult.APPLIED, LedgerResult.MOVED)
        entries = await ledger.ledger_entries(account_id)
        final = await ledger.get_account(account_id)
        assert final is not None
        assert final.balance == sum(e.points for e in entries)
        assert final.balance >= 0
        kinds = [e.kind for e in entries]
        assert kinds.count(LedgerKind.EARN) == 2
        if expired is LedgerResult.APPLIED:
            # It went first: the earn after it stands (the redemption may have found 25).
            assert final.balance in (25, 5)
        else:
            assert kinds.count(LedgerKind.EXPIRE) == 0
            assert final.balance == 105
