"""The loyalty ledger on MongoDB (collections ``ledger`` and ``accounts``).

One transaction reads the account, decides the movement with the port's own rules
(:func:`resolvers.store.ledger.move`), inserts the entry (the unique ``key`` index makes a
replay a ``DuplicateKeyError``) and writes the account only if it still holds what was read
(a conditional update on ``balance`` and ``pending``; a miss retries the whole step): a
refused or failed step leaves neither the entry nor the movement, and two writers never
both spend the same points. Writes to one account queue in this process, so racing
redemptions wait their turn instead of aborting each other.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.mongo.ledger_docs import (
    account_fields,
    account_from,
    entry_doc,
    entry_from,
    on_follows,
)
from gateway.store.mongo.ledger_figures import read_figures
from gateway.store.timeutil import to_utc, utc_now
from resolvers.model import BelowZero, LedgerEntry, LedgerResult, LoyaltyAccount
from resolvers.store import StoreError
from resolvers.store.ledger import LedgerFigures, Movement, check, move, totals

_T = TypeVar("_T")

#: Attempts of one entry whose account another process changed between read and write.
ATTEMPTS = 8
#: Ledger transactions one process runs at once; the rest wait their turn in the process.
#: A backfill earns for hundreds of profiles at a time: started together, their
#: transactions would wait on each other inside the server and run out of their operation
#: timeout there, where a queue here costs nothing.
CONCURRENT_TRANSACTIONS = 8


class _Refused(Exception):
    """Aborts a ledger transaction with a business outcome rather than a failure."""

    def __init__(self, result: LedgerResult) -> None:
        super().__init__(result.value)
        self.result = result


class _Moved(Exception):
    """The account changed between the transaction's read and its write: try again."""


class MongoLedger:
    """The :class:`~resolvers.store.LedgerStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._backend = backend
        self._ledger = backend.collection("ledger")
        self._accounts = backend.collection("accounts")
        self._slots = asyncio.Semaphore(CONCURRENT_TRANSACTIONS)
        #: One queue per account in this process (entries dropped with their last waiter).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def _transaction(self, work: Callable[[AsyncClientSession], Awaitable[_T]]) -> _T:
        async with self._slots:
            return await self._backend.transaction(work)

    async def prepare(self) -> None:
        await self._backend.ensure_collections(self._accounts.name)
        await self._ledger.create_indexes(
            [
                IndexModel([("key", ASCENDING)], unique=True, name="key"),
                IndexModel(
                    [("account_id", ASCENDING), ("at", DESCENDING), ("key", DESCENDING)],
                    name="account_id_at_key",
                ),
                # loyalty_figures: the kinds it sums, over a period.
                IndexModel([("kind", ASCENDING), ("at", ASCENDING)], name="kind_at"),
                # At most one entry follows another: the chain of an order's entries is
                # extended by one writer at a time.
                IndexModel(
                    [("follows", ASCENDING)],
                    unique=True,
                    name="follows",
                    partialFilterExpression={"follows": {"$type": "string"}},
                ),
                IndexModel(
                    [("account_id", ASCENDING), ("order_ref", ASCENDING)],
                    name="account_id_order_ref",
                    partialFilterExpression={"kind": "redeem"},
                ),
            ]
        )
        await self._accounts.create_indexes(
            [
                IndexModel(
                    [("pending", ASCENDING)],
                    name="pending",
                    partialFilterExpression={"pending": {"$gt": 0}},
                )
            ]
        )
        # inactive_accounts: the least recently moved first, with points.
        await self._accounts.create_indexes(
            [IndexModel([("updated_at", ASCENDING), ("balance", ASCENDING)], name="updated_at")]
        )

    @mapped
    async def apply_ledger_entry(
        self, entry: LedgerEntry, *, below_zero: BelowZero = BelowZero.REFUSE
    ) -> tuple[LedgerResult, LoyaltyAccount]:
        check(entry)
        lock = self._locks.setdefault(entry.account_id, asyncio.Lock())
        async with lock:
            for _ in range(ATTEMPTS):
                try:
                    moved = await self._transaction(
                        lambda session: self._apply(entry, below_zero, session)
                    )
                except _Refused as refused:
                    return refused.result, await self._account_or_empty(entry.account_id)
                except _Moved:
                    continue
                return LedgerResult.APPLIED, moved
        raise StoreError(f"ledger entry {entry.key}: its account kept changing")

    async def _apply(
        self, entry: LedgerEntry, below_zero: BelowZero, session: AsyncClientSession
    ) -> LoyaltyAccount:
        # A replay is a duplicate before any rule is weighed: the retry of a redemption the
        # balance no longer covers still returns the first answer.
        if await self._ledger.find_one({"key": entry.key}, {"_id": 1}, session=session):
            raise _Refused(LedgerResult.DUPLICATE)
        raw = await self._accounts.find_one({"_id": entry.account_id}, session=session)
        account = None if raw is None else account_from(raw)
        moved = move(account, entry, below_zero=below_zero, now=to_utc(entry.at))
        if not isinstance(moved, Movement):
            raise _Refused(moved)
        try:
            await self._ledger.insert_one(entry_doc(moved.entry), session=session)
        except DuplicateKeyError as exc:
            raise _Refused(
                LedgerResult.SUPERSEDED if on_follows(exc) else LedgerResult.DUPLICATE
            ) from None
        after = moved.account
        fields = account_fields(after)
        if account is None:
            try:
                await self._accounts.insert_one(
                    {"_id": entry.account_id, **fields}, session=session
                )
            except DuplicateKeyError:
                raise _Moved from None  # another writer created it first
            return after
        result = await self._accounts.update_one(
            {"_id": entry.account_id, "balance": account.balance, "pending": account.pending},
            {"$set": fields},
            session=session,
        )
        if result.matched_count != 1:
            raise _Moved
        return after

    async def _account_or_empty(self, account_id: str) -> LoyaltyAccount:
        raw = await self._accounts.find_one({"_id": account_id})
        return LoyaltyAccount(id=account_id) if raw is None else account_from(raw)

    @mapped
    async def get_entry(self, key: str) -> LedgerEntry | None:
        raw = await self._ledger.find_one({"key": key})
        return None if raw is None else entry_from(raw)

    @mapped
    async def get_entries(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        if not keys:
            return {}
        cursor = self._ledger.find({"key": {"$in": list(keys)}})
        return {raw["key"]: entry_from(raw) async for raw in cursor}

    @mapped
    async def followers(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        if not keys:
            return {}
        cursor = self._ledger.find({"follows": {"$in": list(keys)}})
        return {raw["follows"]: entry_from(raw) async for raw in cursor}

    @mapped
    async def order_redemptions(
        self, account_id: str, order_refs: Sequence[str]
    ) -> list[LedgerEntry]:
        if not order_refs:
            return []
        cursor = self._ledger.find(
            {"account_id": account_id, "kind": "redeem", "order_ref": {"$in": list(order_refs)}}
        )
        return [entry_from(raw) async for raw in cursor]

    @mapped
    async def pending_accounts(self, limit: int = 500) -> list[LoyaltyAccount]:
        cursor = self._accounts.find({"pending": {"$gt": 0}}).limit(limit)
        return [account_from(raw) async for raw in cursor]

    @mapped
    async def move_entries(
        self, from_id: str, into_id: str, *, origins: Sequence[str] | None = None
    ) -> int:
        """One transaction moves the entries and rewrites both accounts from their entries;
        a ledger write racing it on either account conflicts with it, and one of the two
        runs again."""
        if from_id == into_id:
            raise ValueError("entries move between two different accounts")
        query: Doc = {"account_id": from_id}
        if origins is not None:
            query["origin"] = {"$in": list(origins)}

        async def in_transaction(session: AsyncClientSession) -> int:
            result = await self._ledger.update_many(
                query, {"$set": {"account_id": into_id}}, session=session
            )
            if result.modified_count == 0:
                return 0
            for account_id in (from_id, into_id):
                entries = [
                    entry_from(raw)
                    async for raw in self._ledger.find({"account_id": account_id}, session=session)
                ]
                if entries:
                    await self._accounts.replace_one(
                        {"_id": account_id},
                        account_fields(totals(account_id, entries)),
                        upsert=True,
                        session=session,
                    )
                else:
                    await self._accounts.delete_one({"_id": account_id}, session=session)
            return result.modified_count

        return await self._transaction(in_transaction)

    @mapped
    async def get_account(self, account_id: str) -> LoyaltyAccount | None:
        raw = await self._accounts.find_one({"_id": account_id})
        return None if raw is None else account_from(raw)

    @mapped
    async def ledger_entries(
        self, account_id: str, limit: int = 100, *, after: LedgerEntry | None = None
    ) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        query: Doc = {"account_id": account_id}
        if after is not None:
            at = to_utc(after.at)
            query["$or"] = [{"at": {"$lt": at}}, {"at": at, "key": {"$lt": after.key}}]
        cursor = (
            self._ledger.find(query).sort([("at", DESCENDING), ("key", DESCENDING)]).limit(limit)
        )
        return [entry_from(raw) async for raw in cursor]

    @mapped
    async def anonymise_account(self, account_id: str, anonymous_id: str) -> int:
        """Folds the account into ``anonymous_id`` (adding to it if it exists, so a shared
        anonymous bucket works) in one transaction: the re-keyed entries and the moved
        totals land together or not at all."""
        if account_id == anonymous_id:
            raise ValueError("anonymous id must differ from the account id")

        async def in_transaction(session: AsyncClientSession) -> int:
            result = await self._ledger.update_many(
                {"account_id": account_id},
                {"$set": {"account_id": anonymous_id, "meta": {}}},
                session=session,
            )
            old = await self._accounts.find_one_and_delete({"_id": account_id}, session=session)
            if old is not None:
                await self._accounts.update_one(
                    {"_id": anonymous_id},
                    {
                        "$inc": {
                            "balance": int(old.get("balance", 0)),
                            "pending": int(old.get("pending", 0)),
                            "lifetime_earned": int(old.get("lifetime_earned", 0)),
                            "lifetime_redeemed": int(old.get("lifetime_redeemed", 0)),
                        },
                        "$set": {"updated_at": utc_now()},
                    },
                    upsert=True,
                    session=session,
                )
            return result.modified_count

        return await self._transaction(in_transaction)

    # --- expiry and cross-channel figures ---------------------------------------------------

    @mapped
    async def inactive_accounts(self, before: datetime, limit: int = 100) -> list[LoyaltyAccount]:
        if limit <= 0:
            return []
        cursor = (
            self._accounts.find({"updated_at": {"$lt": to_utc(before)}, "balance": {"$gt": 0}})
            .sort([("updated_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [account_from(raw) async for raw in cursor]

    @mapped
    async def apply_if_unmoved(
        self,
        entry: LedgerEntry,
        *,
        seen: LoyaltyAccount,
        below_zero: BelowZero = BelowZero.CLAMP,
    ) -> tuple[LedgerResult, LoyaltyAccount]:
        check(entry)
        lock = self._locks.setdefault(entry.account_id, asyncio.Lock())
        async with lock:
            try:
                moved = await self._transaction(
                    lambda session: self._apply_unmoved(entry, seen, below_zero, session)
                )
            except _Refused as refused:
                return refused.result, await self._account_or_empty(entry.account_id)
            except _Moved:
                # Another process wrote the account between our read and our write: it
                # moved, so its points do not lapse now.
                return LedgerResult.MOVED, await self._account_or_empty(entry.account_id)
            return LedgerResult.APPLIED, moved

    async def _apply_unmoved(
        self,
        entry: LedgerEntry,
        seen: LoyaltyAccount,
        below_zero: BelowZero,
        session: AsyncClientSession,
    ) -> LoyaltyAccount:
        held = {
            "balance": seen.balance,
            "pending": seen.pending,
            "updated_at": None if seen.updated_at is None else to_utc(seen.updated_at),
        }
        raw = await self._accounts.find_one({"_id": entry.account_id, **held}, session=session)
        if raw is None:
            raise _Refused(LedgerResult.MOVED)
        account = account_from(raw)
        moved = move(account, entry, below_zero=below_zero, now=to_utc(entry.at))
        if not isinstance(moved, Movement):
            raise _Refused(moved)
        try:
            await self._ledger.insert_one(entry_doc(moved.entry), session=session)
        except DuplicateKeyError:
            raise _Refused(LedgerResult.DUPLICATE) from None
        after = moved.account
        result = await self._accounts.update_one(
            {"_id": entry.account_id, **held},
            {"$set": account_fields(after)},
            session=session,
        )
        if result.matched_count != 1:
            raise _Moved
        return after

    @mapped
    async def loyalty_figures(self, since: datetime, until: datetime) -> LedgerFigures:
        return await read_figures(self._ledger, since, until)
