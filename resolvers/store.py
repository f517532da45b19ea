"""The ``Store`` port: everything Omnigate persists, behind one protocol.

It is declared here, beside the logic that uses it, so that resolvers depend on an interface
and the gateway (which owns the MongoDB client) provides the implementations
(:mod:`gateway.store.memory`, :mod:`gateway.store.mongo`). One contract test suite holds both
to the same behaviour.

Every method that guards an invariant (no oversold stock, no negative balance, one effect per
idempotency key, no older stock overwriting newer) does so atomically inside the store, in one
conditional write: callers never read-then-write.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from connectors.records import Source
from resolvers.model import (
    Hold,
    HoldStatus,
    Identity,
    LedgerEntry,
    LedgerResult,
    LoyaltyAccount,
    MergeLogEntry,
    ProfileDoc,
    StockLevel,
)


class StoreError(Exception):
    """The store could not be reached or refused an operation for a technical reason.

    ``code`` is the ``extensions.code`` a client sees; ``public_message`` is what it reads. The
    exception's own message (operation, driver error class) is for the log only."""

    code: ClassVar[str] = "STORE_UNAVAILABLE"
    public_message: ClassVar[str] = "The data store is unavailable; try again shortly."


class VersionConflict(StoreError):
    """A profile was written by someone else since it was read (optimistic concurrency)."""

    code: ClassVar[str] = "CONFLICT"
    public_message: ClassVar[str] = "The record changed while it was being written; try again."


class ReceiptClaim(enum.Enum):
    """What :meth:`Store.claim_receipt` found for a delivery's key."""

    #: Nobody had it (or a crashed attempt's lease ran out): the caller applies the event.
    CLAIMED = "claimed"
    #: Applied before: acknowledge, do nothing.
    DUPLICATE = "duplicate"
    #: Another attempt holds it and has not finished: the vendor should come back later.
    IN_FLIGHT = "in_flight"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A signed webhook delivery that can never be applied as it is (its body does not map,
    or applying it fails for a reason that retrying will not change).

    Kept so an operator can see why and replay it once the cause is fixed; the raw ``body``
    and the vendor ``headers`` that came with it are enough to run it through the route
    again. The body holds personal data, so the store forgets letters after a retention
    (``OMNIGATE_WEBHOOK_DEAD_LETTER_TTL_DAYS``). One letter per (source, body digest): a
    redelivery of the same body only bumps ``deliveries``.
    """

    source: Source
    body_digest: str
    reason: str
    received_at: datetime
    body: bytes
    topic: str | None = None
    event_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    deliveries: int = 1


class Store(Protocol):
    #: ``memory`` or ``mongo``: shown by ``health``.
    kind: str

    async def init(self) -> None:
        """Prepare the store (create indexes). Idempotent; called at start-up."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the store answers; used by ``/readyz``."""
        ...

    # --- profiles ---------------------------------------------------------------------------

    async def get_profiles(
        self, ids: Sequence[str], *, include_retired: bool = False
    ) -> dict[str, ProfileDoc]:
        """Live profiles by id. ``include_retired`` also returns the stubs deleted profiles
        leave (``retired=True``, no body, no lookup keys), whose ``version`` a rebuild must
        write against."""
        ...

    async def put_profile(
        self, doc: ProfileDoc, *, expected_version: int | None = None
    ) -> ProfileDoc:
        """Insert or replace; returns the stored doc with its new ``version``.

        With ``expected_version`` the write only happens if the stored version (of a live
        profile or of a retired stub) still equals it (``0`` meaning "no document at all");
        otherwise :class:`VersionConflict`. A write over a stub makes the profile live again:
        only a rebuild that read the stub's version, after identities came back, can do that.
        """
        ...

    async def delete_profile(self, profile_id: str) -> bool:
        """Retire the profile: its body and lookup keys go, its id stays as a stub with a
        new version, so a rebuild that read the profile before cannot write it back. Returns
        whether a live profile was retired."""
        ...

    async def invalidate_profiles(self, profile_ids: Sequence[str]) -> None:
        """Bump the version of each profile and mark it due for a rebuild
        (``refreshed_at = None``), creating a body-less document if there is none, because
        its identities changed: a rebuild that read the old identities then fails its
        conditional write, and one that wrote just before is served as stale."""

    async def find_profiles(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        name_prefix: str | None = None,
        limit: int = 10,
    ) -> list[ProfileDoc]:
        """Profiles whose normalised email or phone equals the argument, or one of whose name
        keys starts with ``name_prefix`` (lower-case). Served from indexes."""
        ...

    # --- identities and merge log -----------------------------------------------------------

    async def link_identities(self, identities: Sequence[Identity]) -> None:
        """Upsert each identity by (source, source_id), pointing it at its ``profile_id``.

        An identity with ``source_updated_at`` is written only over one whose
        ``source_updated_at`` is missing or not newer (one conditional write each), so an
        older vendor delivery never replaces facts from a newer one.
        """

    async def get_identities(
        self, keys: Sequence[tuple[Source, str]]
    ) -> dict[tuple[Source, str], Identity]: ...

    async def identities_of(self, profile_ids: Sequence[str]) -> dict[str, list[Identity]]: ...

    async def find_identities(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = ()
    ) -> list[Identity]:
        """Identities holding any of the normalised emails or phones."""
        ...

    async def delete_identities(self, profile_id: str) -> int: ...

    async def delete_identity(self, source: Source, source_id: str) -> Identity | None:
        """Remove one identity (its upstream record was deleted); returns what was removed."""
        ...

    async def append_merge_log(self, entry: MergeLogEntry) -> None: ...

    async def merge_log(self, profile_id: str) -> list[MergeLogEntry]:
        """Entries naming the profile, oldest first."""
        ...

    async def delete_merge_log(self, profile_id: str) -> int:
        """Remove every entry naming the profile (erasure)."""
        ...

    async def add_tombstones(self, digests: Sequence[str]) -> None:
        """Remember digests of erased identifiers, so a sync never re-imports the person."""

    async def tombstoned(self, digests: Sequence[str]) -> set[str]:
        """The subset of ``digests`` that were erased."""
        ...

    # --- stock and pickup holds -------------------------------------------------------------

    async def apply_stock_level(self, level: StockLevel) -> bool:
        """Store the level unless one as new or newer (by ``updated_at``) is already there, so
        a redelivered event is not applied, or published, twice.

        ``held`` of an existing document is kept: holds are owned by the store, not upstream.
        Quantity names the level does not carry keep their stored value (a Shopify webhook
        reports only ``available``).
        Returns whether the level was applied.
        """
        ...

    async def get_stock(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[StockLevel]: ...

    async def create_hold(self, hold: Hold) -> Hold | None:
        """Reserve ``hold.quantity`` atomically: only if the stock's sellable quantity covers
        it. Returns the stored hold, the existing one for a repeated ``idempotency_key``, or
        ``None`` when there is not enough stock."""
        ...

    async def finish_hold(self, hold_id: str, status: HoldStatus) -> Hold | None:
        """Move an active hold to ``status`` and give its units back; ``None`` if it was not
        active (already finished), so a unit is never returned twice."""
        ...

    async def get_hold(self, hold_id: str) -> Hold | None: ...

    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]: ...

    # --- loyalty ledger -----------------------------------------------------------------------

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

    # --- webhooks and sync --------------------------------------------------------------------

    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
        """True the first time a vendor event id is seen; False for a replay."""
        ...

    async def release_receipt(self, source: Source, event_id: str) -> None:
        """Forget a receipt whose event could not be applied, so the vendor's retry counts."""

    async def get_checkpoint(self, name: str) -> Mapping[str, Any] | None: ...

    async def set_checkpoint(self, name: str, value: Mapping[str, Any]) -> None: ...

    # --- webhook claims and dead letters ------------------------------------------------------

    async def claim_receipt(
        self, source: Source, key: str, now: datetime, *, lease: timedelta
    ) -> ReceiptClaim:
        """Take the receipt ``key`` (an event id, or ``body:<sha256>`` for a delivery's body)
        before applying it, atomically: ``CLAIMED`` for the first caller; ``DUPLICATE`` once
        :meth:`complete_receipt` ran (or for a receipt recorded by :meth:`record_receipt`);
        ``IN_FLIGHT`` while another claim younger than ``lease`` is unfinished. A
        claim older than the lease belonged to an attempt that died (or whose release failed
        in an outage) and may be taken over, so a vendor's retry is never dropped for good.
        """
        ...

    async def complete_receipt(self, source: Source, key: str) -> None:
        """Mark a claimed receipt applied: from now on the key is a duplicate."""

    async def put_dead_letter(self, letter: DeadLetter) -> bool:
        """Keep ``letter``; True if it is new, False if a letter for the same (source, body
        digest) is kept already (its ``deliveries`` count goes up, its reason is the latest)."""
        ...

    async def dead_letters(
        self, source: Source | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        """Kept letters, newest first."""
        ...

    async def dead_letter(self, source: Source, body_digest: str) -> DeadLetter | None: ...

    async def count_dead_letters(self) -> int:
        """How many letters are kept (shown by ``health``)."""
        ...

    async def delete_dead_letter(self, source: Source, body_digest: str) -> bool:
        """Forget a letter (it was replayed); False if there was none."""

    async def take_lease(self, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
        """Hold the lease ``name`` until ``now + ttl``: taken when free or expired, renewed
        when ``holder`` has it already, refused (``False``) while another holder's is
        unexpired. One conditional write, so of replicas racing for it exactly one wins."""
        ...

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` still has it (once expired and taken by another,
        it is theirs)."""
        ...
