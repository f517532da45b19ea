"""The loyalty ledger in memory: entries by key (a repeated key is a duplicate) and the
accounts they move, changed together under one lock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from gateway.store.memory.copying import copy_json
from gateway.store.timeutil import to_utc, utc_now
from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LedgerResult, LoyaltyAccount
from resolvers.store.ledger import (
    LedgerFigures,
    MemberChannel,
    Movement,
    check,
    earned_points,
    figures,
    move,
    redeemed_points,
    totals,
)


def _copy_entry(entry: LedgerEntry) -> LedgerEntry:
    return replace(entry, meta=copy_json(entry.meta))


def _holdings(account: LoyaltyAccount) -> tuple[int, int, datetime | None]:
    """What an account must still hold for a conditional entry (see ``apply_if_unmoved``)."""
    moved = None if account.updated_at is None else to_utc(account.updated_at)
    return account.balance, account.pending, moved


class MemoryLedger:
    """The :class:`~resolvers.store.LedgerStore` of the memory store. Entries' ``meta`` is
    copied in and out; accounts are frozen with immutable fields, so they are shared."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._ledger: dict[str, LedgerEntry] = {}
        self._by_account: dict[str, list[str]] = {}
        self._accounts: dict[str, LoyaltyAccount] = {}
        #: Key followed -> key of the entry that follows it.
        self._followed: dict[str, str] = {}

    async def apply_ledger_entry(
        self, entry: LedgerEntry, *, below_zero: BelowZero = BelowZero.REFUSE
    ) -> tuple[LedgerResult, LoyaltyAccount]:
        check(entry)
        async with self._lock:
            account = self._accounts.get(entry.account_id)
            current = account or LoyaltyAccount(id=entry.account_id)
            if entry.key in self._ledger:
                return LedgerResult.DUPLICATE, current
            if entry.follows is not None and entry.follows in self._followed:
                return LedgerResult.SUPERSEDED, current
            moved = move(account, entry, below_zero=below_zero, now=to_utc(entry.at))
            if not isinstance(moved, Movement):
                return moved, current
            stored = replace(moved.entry, at=to_utc(entry.at), meta=copy_json(entry.meta))
            self._ledger[entry.key] = stored
            self._by_account.setdefault(entry.account_id, []).append(entry.key)
            self._accounts[entry.account_id] = moved.account
            if entry.follows is not None:
                self._followed[entry.follows] = entry.key
            return LedgerResult.APPLIED, moved.account

    async def get_entry(self, key: str) -> LedgerEntry | None:
        entry = self._ledger.get(key)
        return None if entry is None else _copy_entry(entry)

    async def get_entries(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        return {k: _copy_entry(self._ledger[k]) for k in keys if k in self._ledger}

    async def followers(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        return {
            k: _copy_entry(self._ledger[self._followed[k]]) for k in keys if k in self._followed
        }

    async def order_redemptions(
        self, account_id: str, order_refs: Sequence[str]
    ) -> list[LedgerEntry]:
        refs = set(order_refs)
        return [
            _copy_entry(e)
            for e in (self._ledger[k] for k in self._by_account.get(account_id, []))
            if e.kind is LedgerKind.REDEEM and e.order_ref in refs
        ]

    async def pending_accounts(self, limit: int = 500) -> list[LoyaltyAccount]:
        return [a for a in self._accounts.values() if a.pending > 0][:limit]

    async def move_entries(
        self, from_id: str, into_id: str, *, origins: Sequence[str] | None = None
    ) -> int:
        if from_id == into_id:
            raise ValueError("entries move between two different accounts")
        async with self._lock:
            keys = self._by_account.get(from_id, [])
            wanted = None if origins is None else set(origins)
            moving = [k for k in keys if wanted is None or self._ledger[k].origin in wanted]
            if not moving:
                return 0
            for key in moving:
                self._ledger[key] = replace(self._ledger[key], account_id=into_id)
            staying = [k for k in keys if k not in set(moving)]
            self._by_account[from_id] = staying
            self._by_account.setdefault(into_id, []).extend(moving)
            for account_id in (from_id, into_id):
                entries = [self._ledger[k] for k in self._by_account[account_id]]
                if entries:
                    self._accounts[account_id] = totals(account_id, entries)
                else:
                    self._accounts.pop(account_id, None)
                    self._by_account.pop(account_id, None)
            return len(moving)

    async def get_account(self, account_id: str) -> LoyaltyAccount | None:
        return self._accounts.get(account_id)

    async def ledger_entries(
        self, account_id: str, limit: int = 100, *, after: LedgerEntry | None = None
    ) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        entries = sorted(
            (self._ledger[key] for key in self._by_account.get(account_id, [])),
            key=lambda entry: (entry.at, entry.key),
            reverse=True,
        )
        if after is not None:
            mark = (to_utc(after.at), after.key)
            entries = [e for e in entries if (e.at, e.key) < mark]
        return [_copy_entry(entry) for entry in entries[:limit]]

    async def anonymise_account(self, account_id: str, anonymous_id: str) -> int:
        """Folds the account into ``anonymous_id`` (adding to it if it already exists, so one
        shared anonymous bucket works too) and returns how many entries were re-keyed."""
        if account_id == anonymous_id:
            raise ValueError("anonymous id must differ from the account id")
        async with self._lock:
            keys = self._by_account.pop(account_id, [])
            for key in keys:
                self._ledger[key] = replace(self._ledger[key], account_id=anonymous_id, meta={})
            if keys:
                self._by_account.setdefault(anonymous_id, []).extend(keys)
            old = self._accounts.pop(account_id, None)
            if old is not None:
                into = self._accounts.get(anonymous_id) or LoyaltyAccount(id=anonymous_id)
                self._accounts[anonymous_id] = LoyaltyAccount(
                    id=anonymous_id,
                    balance=into.balance + old.balance,
                    pending=into.pending + old.pending,
                    lifetime_earned=into.lifetime_earned + old.lifetime_earned,
                    lifetime_redeemed=into.lifetime_redeemed + old.lifetime_redeemed,
                    updated_at=utc_now(),
                )
            return len(keys)

    # --- expiry and cross-channel figures ---------------------------------------------------

    async def inactive_accounts(self, before: datetime, limit: int = 100) -> list[LoyaltyAccount]:
        if limit <= 0:
            return []
        cutoff = to_utc(before)
        due = [
            a
            for a in self._accounts.values()
            if a.balance > 0 and a.updated_at is not None and a.updated_at < cutoff
        ]
        due.sort(key=lambda a: (a.updated_at or cutoff, a.id))
        return due[:limit]

    async def apply_if_unmoved(
        self,
        entry: LedgerEntry,
        *,
        seen: LoyaltyAccount,
        below_zero: BelowZero = BelowZero.CLAMP,
    ) -> tuple[LedgerResult, LoyaltyAccount]:
        check(entry)
        async with self._lock:
            account = self._accounts.get(entry.account_id)
            if account is None or _holdings(account) != _holdings(seen):
                return LedgerResult.MOVED, account or LoyaltyAccount(id=entry.account_id)
            if entry.key in self._ledger:
                return LedgerResult.DUPLICATE, account
            moved = move(account, entry, below_zero=below_zero, now=to_utc(entry.at))
            if not isinstance(moved, Movement):
                return moved, account
            stored = replace(moved.entry, at=to_utc(entry.at), meta=copy_json(entry.meta))
            self._ledger[entry.key] = stored
            self._by_account.setdefault(entry.account_id, []).append(entry.key)
            self._accounts[entry.account_id] = moved.account
            return LedgerResult.APPLIED, moved.account

    async def loyalty_figures(self, since: datetime, until: datetime) -> LedgerFigures:
        start, end = to_utc(since), to_utc(until)
        sums: dict[str, dict[str | None, list[int]]] = {}
        for entry in self._ledger.values():
            if entry.at >= end:
                continue
            earned, redeemed = earned_points(entry), redeemed_points(entry)
            if not (earned or redeemed):
                continue
            row = sums.setdefault(entry.account_id, {}).setdefault(entry.channel, [0, 0, 0])
            row[1] += earned
            if entry.at >= start:
                row[0] += earned
                row[2] += redeemed
        members = (
            [MemberChannel(channel, *row) for channel, row in channels.items()]
            for channels in sums.values()
        )
        return figures(members, since=since, until=until)
