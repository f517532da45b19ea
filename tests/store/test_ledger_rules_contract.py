"""The ledger's rules on every backend: pending earns settle once, clawbacks stop at zero
with a recorded shortfall (or go below when allowed), lifetime figures follow the kinds, and
the account always equals the sum of its entries, however many writers race."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LedgerResult
from resolvers.store import LedgerStore
from resolvers.store.ledger import settle_key
from tests.store.builders import entry


def kind(key: str, points: int, k: LedgerKind, **fields: object) -> LedgerEntry:
    return replace(entry(key, points), kind=k, **fields)  # type: ignore[arg-type]


async def sums_match(ledger: LedgerStore, account_id: str = "acct-1") -> None:
    """The account is the sum of its entries: settled ones in the balance, pending apart."""
    entries = await ledger.ledger_entries(account_id, limit=10_000)
    account = await ledger.get_account(account_id)
    assert account is not None
    pending = sum(e.points for e in entries if e.kind is LedgerKind.PENDING_EARN)
    settled = [e for e in entries if e.kind is not LedgerKind.PENDING_EARN]
    assert account.balance == sum(e.points for e in settled)
    settling = [e for e in settled if e.kind is LedgerKind.EARN and e.settles is not None]
    assert account.pending == pending - sum(e.points for e in settling)


async def test_a_pending_earn_settles_once(ledger: LedgerStore) -> None:
    result, account = await ledger.apply_ledger_entry(
        kind("earn:shopify:order:1", 80, LedgerKind.PENDING_EARN, rule="per-unit", rate="1")
    )
    assert result is LedgerResult.APPLIED
    assert (account.balance, account.pending, account.lifetime_earned) == (0, 80, 0)
    settle = kind(
        settle_key("earn:shopify:order:1"), 80, LedgerKind.EARN, settles="earn:shopify:order:1"
    )
    results = await asyncio.gather(*(ledger.apply_ledger_entry(settle) for _ in range(6)))
    assert [r for r, _ in results].count(LedgerResult.APPLIED) == 1
    account = await ledger.get_account("acct-1")
    assert account is not None
    assert (account.balance, account.pending, account.lifetime_earned) == (80, 0, 80)
    stored = await ledger.get_entry("earn:shopify:order:1")
    assert stored is not None
    assert (stored.rule, stored.rate) == ("per-unit", "1")
    await sums_match(ledger)


async def test_settling_what_is_not_pending_is_refused(ledger: LedgerStore) -> None:
    settle = kind(settle_key("earn:x"), 10, LedgerKind.EARN, settles="earn:x")
    result, account = await ledger.apply_ledger_entry(settle)
    assert result is LedgerResult.NOT_PENDING
    assert account.balance == 0
    assert await ledger.get_entry(settle.key) is None
    with pytest.raises(ValueError, match="has the key"):
        await ledger.apply_ledger_entry(replace(settle, key="other"))


async def test_a_clawback_stops_at_zero_and_records_the_shortfall(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 100))
    await ledger.apply_ledger_entry(entry("redeem:1", -70))
    claw = kind("clawback:refund:1", -50, LedgerKind.REFUND_CLAWBACK)
    result, account = await ledger.apply_ledger_entry(claw, below_zero=BelowZero.CLAMP)
    assert result is LedgerResult.APPLIED
    assert account.balance == 0
    stored = await ledger.get_entry("clawback:refund:1")
    assert stored is not None
    assert (stored.points, stored.shortfall) == (-30, 20)
    assert account.lifetime_earned == 70  # 100 earned, 30 taken back
    await sums_match(ledger)


async def test_a_clawback_may_go_below_zero_when_allowed(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 10))
    claw = kind("clawback:refund:1", -25, LedgerKind.REFUND_CLAWBACK)
    assert (await ledger.apply_ledger_entry(claw))[0] is LedgerResult.INSUFFICIENT_BALANCE
    result, account = await ledger.apply_ledger_entry(claw, below_zero=BelowZero.ALLOW)
    assert result is LedgerResult.APPLIED
    assert account.balance == -15
    await sums_match(ledger)


async def test_lifetime_figures_follow_the_kinds(ledger: LedgerStore) -> None:
    moves = [
        entry("earn:1", 100),
        kind("referral:1", 25, LedgerKind.REFERRAL_BONUS),
        entry("redeem:1", -40),
        kind("reverse:redeem:1", 40, LedgerKind.REDEEM_REVERSAL, settles="redeem:1"),
        entry("redeem:2", -10),
        kind("adjust:1", -5, LedgerKind.ADJUST, reason="goodwill corrected", actor="ops"),
        kind("expire:1", -20, LedgerKind.EXPIRE),
    ]
    for move in moves:
        assert (await ledger.apply_ledger_entry(move))[0] is LedgerResult.APPLIED
    account = await ledger.get_account("acct-1")
    assert account is not None
    assert account.balance == 100 + 25 - 40 + 40 - 10 - 5 - 20
    assert account.lifetime_earned == 100 + 25 - 5
    assert account.lifetime_redeemed == 40 - 40 + 10
    adjust = await ledger.get_entry("adjust:1")
    assert adjust is not None
    assert (adjust.reason, adjust.actor) == ("goodwill corrected", "ops")
    await sums_match(ledger)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (kind("e", -1, LedgerKind.EARN), "positive"),
        (kind("r", 5, LedgerKind.REDEEM), "negative"),
        (kind("a", 5, LedgerKind.ADJUST), "reason"),
    ],
)
async def test_malformed_entries_are_refused(
    ledger: LedgerStore, bad: LedgerEntry, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await ledger.apply_ledger_entry(bad)


async def test_100_racing_redemptions_of_10_against_100_succeed_10_times(
    ledger: LedgerStore,
) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 100))
    results = await asyncio.gather(
        *(ledger.apply_ledger_entry(entry(f"redeem:{n}", -10)) for n in range(100))
    )
    outcomes = [r for r, _ in results]
    assert outcomes.count(LedgerResult.APPLIED) == 10
    assert outcomes.count(LedgerResult.INSUFFICIENT_BALANCE) == 90
    account = await ledger.get_account("acct-1")
    assert account is not None
    assert (account.balance, account.lifetime_redeemed) == (0, 100)
    await sums_match(ledger)


async def test_racing_earns_redeems_and_clawbacks_keep_the_sums(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:0", 50))
    writes = []
    for n in range(1, 31):
        writes.append(ledger.apply_ledger_entry(entry(f"earn:{n}", 7)))
        writes.append(ledger.apply_ledger_entry(entry(f"redeem:{n}", -9)))
        claw = kind(f"clawback:{n}", -4, LedgerKind.REFUND_CLAWBACK)
        writes.append(ledger.apply_ledger_entry(claw, below_zero=BelowZero.CLAMP))
        writes.append(ledger.apply_ledger_entry(entry(f"earn:{n}", 7)))  # a replay
    await asyncio.gather(*writes)
    account = await ledger.get_account("acct-1")
    assert account is not None
    assert account.balance >= 0
    await sums_match(ledger)
