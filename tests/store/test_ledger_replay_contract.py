"""A replayed ledger entry is a duplicate, whatever the account holds by the time it comes
back: a till's retry of a redemption the balance no longer covers returns the first answer
(``DUPLICATE``), not ``INSUFFICIENT_BALANCE``; a second settlement of a pending earn is a
duplicate, not ``NOT_PENDING``. (MongoDB once decided the movement on today's account
before it tried the key, and answered such replays with the refusal.)"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from resolvers.model import LedgerKind, LedgerResult
from resolvers.store import LedgerStore
from resolvers.store.ledger import settle_key
from tests.store.builders import entry


async def test_a_redemption_replayed_after_the_balance_fell_is_a_duplicate(
    ledger: LedgerStore,
) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 50))
    sale = entry("redeem:till-3:sale-9", -30)
    assert (await ledger.apply_ledger_entry(sale))[0] is LedgerResult.APPLIED
    result, account = await ledger.apply_ledger_entry(sale)  # the till retried
    assert result is LedgerResult.DUPLICATE
    assert account.balance == 20


async def test_racing_replays_of_one_redemption_are_duplicates(ledger: LedgerStore) -> None:
    await ledger.apply_ledger_entry(entry("earn:1", 50))
    sale = entry("redeem:till-3:sale-9", -30)
    results = await asyncio.gather(*(ledger.apply_ledger_entry(sale) for _ in range(6)))
    assert sorted(r for r, _ in results) == sorted(
        [LedgerResult.APPLIED] + [LedgerResult.DUPLICATE] * 5
    )


async def test_a_settlement_replayed_is_a_duplicate(ledger: LedgerStore) -> None:
    pending = replace(entry("earn:shopify:order:1", 80), kind=LedgerKind.PENDING_EARN)
    await ledger.apply_ledger_entry(pending)
    settle = replace(entry(settle_key(pending.key), 80), kind=LedgerKind.EARN, settles=pending.key)
    assert (await ledger.apply_ledger_entry(settle))[0] is LedgerResult.APPLIED
    assert (await ledger.apply_ledger_entry(settle))[0] is LedgerResult.DUPLICATE
