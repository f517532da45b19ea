"""How ledger entries and loyalty accounts are stored as MongoDB documents."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from connectors.records import Source
from gateway.store.mongo.base import Doc
from gateway.store.timeutil import to_utc
from resolvers.model import LedgerEntry, LedgerKind, LoyaltyAccount


def entry_doc(entry: LedgerEntry) -> Doc:
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
        "rule": entry.rule,
        "rate": entry.rate,
        "actor": entry.actor,
        "reason": entry.reason,
        "settles": entry.settles,
        "shortfall": entry.shortfall,
        "follows": entry.follows,
        "origin": entry.origin,
        "tier": entry.tier,
    }


def entry_from(raw: Doc) -> LedgerEntry:
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
        rule=raw.get("rule"),
        rate=raw.get("rate"),
        actor=raw.get("actor"),
        reason=raw.get("reason"),
        settles=raw.get("settles"),
        shortfall=int(raw.get("shortfall") or 0),
        follows=raw.get("follows"),
        origin=raw.get("origin"),
        tier=raw.get("tier"),
    )


def account_from(raw: Doc) -> LoyaltyAccount:
    return LoyaltyAccount(
        id=raw["_id"],
        balance=int(raw.get("balance", 0)),
        pending=int(raw.get("pending", 0)),
        lifetime_earned=int(raw.get("lifetime_earned", 0)),
        lifetime_redeemed=int(raw.get("lifetime_redeemed", 0)),
        updated_at=raw.get("updated_at"),
        tier=raw.get("tier"),
    )


def account_fields(account: LoyaltyAccount) -> Doc:
    return {
        "balance": account.balance,
        "pending": account.pending,
        "lifetime_earned": account.lifetime_earned,
        "lifetime_redeemed": account.lifetime_redeemed,
        "updated_at": account.updated_at,
        "tier": account.tier,
    }


def on_follows(exc: DuplicateKeyError) -> bool:
    """Whether the duplicate is of ``follows`` (a chain step taken) rather than ``key``."""
    details = exc.details or {}
    pattern = details.get("keyPattern") or {}
    return "follows" in pattern or "follows" in str(details.get("errmsg", exc))
