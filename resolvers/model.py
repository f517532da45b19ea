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

    ``quantities`` uses Shopify's names (``available``, ``on_hand``, ``committed``,
    ``reserved``, ``incoming``) plus ``safety_stock``, the location's setting stamped in when
    the level is stored. ``held`` counts units promised to pickup holds that are not settled
    yet (active, or completed while the vendor's count does not show the sale). ``updated_at``
    is the source's timestamp of the last applied level, so an older webhook never overwrites
    a newer one. ``version`` grows by one on every write to this (sku, location), whoever
    made it, so a reader can tell two states apart even when their quantities are equal.
    """

    sku: str
    location_id: str
    quantities: dict[str, int]
    updated_at: datetime
    held: int = 0
    source: Source | None = None
    version: int = 0

    @property
    def safety_stock(self) -> int:
        return self.quantities.get("safety_stock", 0)

    @property
    def sellable(self) -> int:
        """``available - safety_stock - held``; negative when upstream sold held units."""
        return self.quantities.get("available", 0) - self.safety_stock - self.held

    @property
    def sellable_for_pickup(self) -> int:
        return max(0, self.sellable)


class HoldStatus(enum.StrEnum):
    #: Units held for the customer until ``expires_at``.
    ACTIVE = "active"
    #: Picked up. The units stay held until the vendor's own count shows the sale (or a
    #: timeout), so there is no moment at which they are sellable twice.
    COMPLETED = "completed"
    #: Final: the vendor's count reflects the sale and the units left ``held``.
    SETTLED = "settled"
    #: Final: cancelled, units given back.
    RELEASED = "released"
    #: Final: the time ran out, units given back.
    EXPIRED = "expired"

    @property
    def holds_units(self) -> bool:
        return self in (HoldStatus.ACTIVE, HoldStatus.COMPLETED)


#: Each final status and the status a hold must have to move to it.
HOLD_FINISHES_FROM: dict[HoldStatus, HoldStatus] = {
    HoldStatus.RELEASED: HoldStatus.ACTIVE,
    HoldStatus.EXPIRED: HoldStatus.ACTIVE,
    HoldStatus.SETTLED: HoldStatus.COMPLETED,
}

#: The stock journal's ``cause`` for each hold move that changes ``held``.
HOLD_CAUSES: dict[HoldStatus, str] = {
    HoldStatus.ACTIVE: "hold",
    HoldStatus.RELEASED: "release",
    HoldStatus.EXPIRED: "expiry",
    HoldStatus.SETTLED: "settlement",
}


def finishes_from(status: HoldStatus) -> HoldStatus:
    """The status ``finish_hold(status)`` moves from; ``ValueError`` for a status that is
    not a finish (active, completed)."""
    try:
        return HOLD_FINISHES_FROM[status]
    except KeyError:
        raise ValueError(f"a hold cannot be finished as {status.value}") from None


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
    completed_at: datetime | None = None
    #: The level's ``available`` when the hold was completed: the vendor's count has taken
    #: the sale once it dropped by the hold's quantity from here.
    available_at_completion: int | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StockChange:
    """One entry of the store's stock journal: a level as stored right after a write.

    ``seq`` is store-wide and grows in commit order, so "every change after ``seq``" is a
    well-defined question (the subscription cursor). ``cause`` says who wrote it:
    ``webhook``, ``order``, ``warmup``, ``reconciliation``, ``safety_stock``, ``hold``,
    ``release``, ``expiry``, ``settlement``."""

    seq: int
    level: StockLevel
    cause: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HoldWrite:
    """A hold as stored by a write, with the stock change the write made; ``change`` is
    ``None`` when nothing was written (a retried request got the hold it made before)."""

    hold: Hold
    change: StockChange | None


class LedgerKind(enum.StrEnum):
    #: Points earned, settled: in the balance.
    EARN = "earn"
    #: Points earned but held back through the return window: in ``pending``, not spendable.
    #: Settled later by an ``EARN`` entry whose ``settles`` names it.
    PENDING_EARN = "pending_earn"
    #: Points spent (negative).
    REDEEM = "redeem"
    #: Points of a redemption given back (a cancelled sale, a refund of what they paid for);
    #: ``settles`` names the redemption.
    REDEEM_REVERSAL = "redeem_reversal"
    #: Points of a refunded order taken back (negative), at the rule of the original earn:
    #: from the balance, or, when ``settles`` names a pending earn, from ``pending``.
    REFUND_CLAWBACK = "refund_clawback"
    #: A person's correction, with a reason (either sign).
    ADJUST = "adjust"
    #: Points that lapsed after inactivity (negative).
    EXPIRE = "expire"
    #: The bonus of a referral, to either side.
    REFERRAL_BONUS = "referral_bonus"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of loyalty points. ``key`` is the unique idempotency key
    (e.g. ``earn:shopify:order:123``): writing the same key twice has one effect.

    ``rule`` and ``rate`` are what produced the points (``"earn-per-unit"``, ``"1.5"``), kept
    so a later refund claws back at the rule of the original earn, not today's. ``points`` as
    stored is what moved; ``shortfall`` is what a clawback could not take because the balance
    stopped at zero."""

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
    rule: str | None = None
    rate: str | None = None
    actor: str | None = None
    reason: str | None = None
    #: The key of the entry this one settles (a pending earn) or reverses (a redemption).
    settles: str | None = None
    shortfall: int = 0
    #: The key of the entry before this one in its chain (an order's earn, then its
    #: settlement and clawbacks; a redemption, then its reversals). At most one entry
    #: follows any other, so two writers that decided the next step from the same ledger
    #: cannot both land (``SUPERSEDED``): the second reads again.
    follows: str | None = None
    #: The account the entry was written to; a merge moves entries, an unmerge moves back
    #: those whose origin was the restored profile's.
    origin: str | None = None
    #: The member's tier after this entry, when its writer knows it.
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class LoyaltyAccount:
    """Always the sum of its entries: ``balance`` of the settled ones, ``pending`` of the
    earns still inside their return window."""

    id: str
    balance: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    lifetime_redeemed: int = 0
    updated_at: datetime | None = None
    #: The tier the member held at their last entry (see :mod:`resolvers.loyalty.program`).
    tier: str | None = None


class BelowZero(enum.StrEnum):
    """What a negative entry that the balance does not cover does."""

    #: Nothing is written (``INSUFFICIENT_BALANCE``): redemptions.
    REFUSE = "refuse"
    #: Takes what there is, stops at zero and records the rest as ``shortfall``: clawbacks
    #: and expiry, unless a setting allows a negative balance.
    CLAMP = "clamp"
    #: Goes below zero: a clawback where the programme's setting allows it.
    ALLOW = "allow"


class LedgerResult(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    #: A settling entry whose pending earn is not (or no longer) pending.
    NOT_PENDING = "not_pending"
    #: Another entry already follows the one this one ``follows``: decide again from the
    #: ledger as it is now.
    SUPERSEDED = "superseded"
    #: An entry conditional on the account's last movement (expiry) found that it moved
    #: since it was read: nothing is written.
    MOVED = "moved"
