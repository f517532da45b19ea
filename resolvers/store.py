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

from collections.abc import Mapping, Sequence
from datetime import datetime
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

    async def get_profiles(self, ids: Sequence[str]) -> dict[str, ProfileDoc]: ...

    async def put_profile(
        self, doc: ProfileDoc, *, expected_version: int | None = None
    ) -> ProfileDoc:
        """Insert or replace; returns the stored doc with its new ``version``.

        With ``expected_version`` the write only happens if the stored version still equals it
        (``0`` meaning "must not exist yet"); otherwise :class:`VersionConflict`.
        """
        ...

    async def delete_profile(self, profile_id: str) -> bool: ...

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
        """Upsert each identity by (source, source_id), pointing it at its ``profile_id``."""

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
