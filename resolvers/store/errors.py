"""What every store port raises when it cannot do its job for a technical reason."""

from __future__ import annotations

from typing import ClassVar


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


class CursorExpired(StoreError):
    """Changes after a cursor were already dropped by retention: the caller must re-read."""

    code: ClassVar[str] = "CURSOR_EXPIRED"
    public_message: ClassVar[str] = (
        "That cursor is older than the change history kept; read the current stock instead."
    )
