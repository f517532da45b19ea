"""The loyalty ledger port: append-only point movements and the account balances they add
up to, kept together so a balance never moves without its entry (nor the other way)."""

from __future__ import annotations

from typing import Protocol

from resolvers.model import LedgerEntry, LedgerResult, LoyaltyAccount


class LedgerStore(Protocol):
    async def apply_ledger_entry(self, entry: LedgerEntry) -> tuple[LedgerResult, LoyaltyAccount]:
        """Append the entry and move the account balance, atomically.

        A repeated ``key`` has no second effect (``DUPLICATE``); a negative entry that would
        take the balance below zero is refused (``INSUFFICIENT_BALANCE``) and nothing is
        written.
        """
        ...

    async def get_account(self, account_id: str) -> LoyaltyAccount | None: ...

    async def ledger_entries(self, account_id: str, limit: int = 100) -> list[LedgerEntry]:
        """Newest first."""
        ...

    async def anonymise_account(self, account_id: str, anonymous_id: str) -> int:
        """Re-key an erased person's ledger entries and account to ``anonymous_id`` and strip
        their ``meta``; the points history stays auditable without naming the person."""
        ...
