"""The loyalty ledger on MongoDB (collections ``ledger`` and ``accounts``).

The ledger's unique ``key`` index makes a replay a ``DuplicateKeyError``, and the balance
moves with a conditional ``$inc`` (``balance >= -points``), both in one transaction: a
refused or failed step leaves neither the entry nor the movement.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from connectors.records import Source
from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.timeutil import to_utc, utc_now
from resolvers.model import LedgerEntry, LedgerKind, LedgerResult, LoyaltyAccount


class _Refused(Exception):
    """Aborts a ledger transaction with a business outcome rather than a failure."""

    def __init__(self, result: LedgerResult) -> None:
        super().__init__(result.value)
        self.result = result


def _entry_doc(entry: LedgerEntry) -> Doc:
    return {
        "key": entry.key,
        "account_id": entry.account_id,
        "points": entry.points,
        "kind": entry.kind.value,
        "at": to_utc(entry.at),
        "source": entry.source.value if entry.source else None,
        "channel": entry.channel,
        "location_id": entry.location_id,
        "order_ref": entry.order_ref,
        "meta": dict(entry.meta),
    }


def _entry_from(raw: Doc) -> LedgerEntry:
    source = raw.get("source")
    return LedgerEntry(
        key=raw["key"],
        account_id=raw["account_id"],
        points=int(raw["points"]),
        kind=LedgerKind(raw["kind"]),
        at=raw["at"],
        source=Source(source) if source else None,
        channel=raw.get("channel"),
        location_id=raw.get("location_id"),
        order_ref=raw.get("order_ref"),
        meta=raw.get("meta") or {},
    )


def _account_from(raw: Doc) -> LoyaltyAccount:
    return LoyaltyAccount(
        id=raw["_id"],
        balance=int(raw.get("balance", 0)),
        lifetime_earned=int(raw.get("lifetime_earned", 0)),
        lifetime_redeemed=int(raw.get("lifetime_redeemed", 0)),
        updated_at=raw.get("updated_at"),
    )


def _balance_increments(entry: LedgerEntry) -> Doc:
    """The ``$inc`` of one entry; the same rule as the memory ledger's ``moved_account``."""
    increments: Doc = {"balance": entry.points}
    if entry.points > 0:
        increments["lifetime_earned"] = entry.points
    if entry.kind is LedgerKind.REDEEM and entry.points < 0:
        increments["lifetime_redeemed"] = -entry.points
    return increments


class MongoLedger:
    """The :class:`~resolvers.store.LedgerStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._backend = backend
        self._ledger = backend.collection("ledger")
        self._accounts = backend.collection("accounts")

    async def prepare(self) -> None:
        await self._backend.ensure_collections(self._accounts.name)
        await self._ledger.create_indexes(
            [
                IndexModel([("key", ASCENDING)], unique=True, name="key"),
                IndexModel(
                    [("account_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                    name="account_id_at",
                ),
            ]
        )

    @mapped
    async def apply_ledger_entry(self, entry: LedgerEntry) -> tuple[LedgerResult, LoyaltyAccount]:
        async def in_transaction(session: AsyncClientSession) -> LoyaltyAccount:
            try:
                await self._ledger.insert_one(_entry_doc(entry), session=session)
            except DuplicateKeyError:
                raise _Refused(LedgerResult.DUPLICATE) from None
            moved = await self._move_balance(entry, session=session)
            if moved is None:
                raise _Refused(LedgerResult.INSUFFICIENT_BALANCE)
            return moved

        try:
            moved = await self._backend.transaction(in_transaction)
        except _Refused as refused:
            return refused.result, await self._account_or_empty(entry.account_id)
        return LedgerResult.APPLIED, moved

    async def _move_balance(
        self, entry: LedgerEntry, *, session: AsyncClientSession
    ) -> LoyaltyAccount | None:
        """The conditional ``$inc``: a negative entry only matches while the balance covers
        it; a non-negative one creates the account if needed."""
        query: Doc = {"_id": entry.account_id}
        if entry.points < 0:
            query["balance"] = {"$gte": -entry.points}
        raw = await self._accounts.find_one_and_update(
            query,
            {"$inc": _balance_increments(entry), "$set": {"updated_at": utc_now()}},
            upsert=entry.points >= 0,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return None if raw is None else _account_from(raw)

    async def _account_or_empty(self, account_id: str) -> LoyaltyAccount:
        raw = await self._accounts.find_one({"_id": account_id})
        return LoyaltyAccount(id=account_id) if raw is None else _account_from(raw)

    @mapped
    async def get_account(self, account_id: str) -> LoyaltyAccount | None:
        raw = await self._accounts.find_one({"_id": account_id})
        return None if raw is None else _account_from(raw)

    @mapped
    async def ledger_entries(self, account_id: str, limit: int = 100) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        cursor = (
            self._ledger.find({"account_id": account_id})
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_entry_from(raw) async for raw in cursor]

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
                            "lifetime_earned": int(old.get("lifetime_earned", 0)),
                            "lifetime_redeemed": int(old.get("lifetime_redeemed", 0)),
                        },
                        "$set": {"updated_at": utc_now()},
                    },
                    upsert=True,
                    session=session,
                )
            return result.modified_count

        return await self._backend.transaction(in_transaction)
