"""Records the gateway itself owns and persists: profiles, identities, stock, holds, ledger.

Vendor-shaped records live in :mod:`connectors.records`; these are the shapes of Omnigate's
own state, which the :class:`resolvers.store.Store` persists (MongoDB in production, memory in
the demo). They are plain dataclasses so a store implementation can map them to documents
without knowing GraphQL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.records import Source


@dataclass(slots=True)
class ProfileDoc:
    """A cached unified profile.

    ``body`` is the serialised profile (JSON-safe dict) that the customer resolvers build and
    read; the store treats it as opaque. The lookup keys are separate, indexed fields, because
    the counter lookup must be served from the store by normalised email, phone or name prefix.
    ``version`` increments on every write so concurrent rebuilds can be detected.
    """

    id: str
    body: dict[str, Any]
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    #: Lower-cased name tokens and the full name, for prefix lookup.
    names: list[str] = field(default_factory=list)
    refreshed_at: datetime | None = None
    version: int = 0
    #: A deleted profile leaves a stub (id and version, nothing else) so a rebuild that read
    #: it before the deletion fails its version-conditional write instead of resurrecting it.
    #: Only ``get_profiles(include_retired=True)`` returns stubs.
    retired: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    """One upstream record attached to one unified profile. Unique on (source, source_id)."""

    source: Source
    source_id: str
    profile_id: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    #: Folded "first last", kept so a later record can be re-resolved against this one.
    name: str | None = None
    linked_at: datetime | None = None
    reason: str | None = None
    #: The vendor's ``updated_at`` of the record these facts came from: an older delivery
    #: never overwrites facts from a newer one.
    source_updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MergeLogEntry:
    """Why identities were joined or split, with what was there before, so unmerge can undo it."""

    id: str
    action: str  # "merge" | "unmerge" | "link" | "erase"
    profile_ids: tuple[str, ...]
    reason: str
    at: datetime
    actor: str | None = None
    before: dict[str, Any] = field(default_factory=dict)
    #: For an ``unmerge``: the id of the merge it undid, so merges undo newest first, once.
    undoes: str | None = None


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Stock of one SKU at one unified location.

    ``quantities`` uses Shopify's names. ``held`` counts units promised to active pickup holds;
    sellable-for-pickup is ``available - safety_stock - held``. ``updated_at`` is the source's
    timestamp of the last applied level, so an older webhook never overwrites a newer one.
    """

    sku: str
    location_id: str
    quantities: dict[str, int]
    updated_at: datetime
    held: int = 0
    source: Source | None = None

    @property
    def sellable(self) -> int:
        q = self.quantities
        return q.get("available", 0) - q.get("safety_stock", 0) - self.held


class HoldStatus(enum.StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    COMPLETED = "completed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    sku: str
    location_id: str
    quantity: int
    status: HoldStatus
    created_at: datetime
    expires_at: datetime
    customer_id: str | None = None
    idempotency_key: str | None = None


class LedgerKind(enum.StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    CLAWBACK = "clawback"
    ADJUST = "adjust"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of loyalty points. ``key`` is the unique idempotency key
    (e.g. ``earn:shopify:order:123``): writing the same key twice has one effect."""

    key: str
    account_id: str
    points: int
    kind: LedgerKind
    at: datetime
    source: Source | None = None
    channel: str | None = None
    location_id: str | None = None
    order_ref: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoyaltyAccount:
    id: str
    balance: int = 0
    lifetime_earned: int = 0
    lifetime_redeemed: int = 0
    updated_at: datetime | None = None


class LedgerResult(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    INSUFFICIENT_BALANCE = "insufficient_balance"
