"""Store implementations behind :class:`resolvers.store.Store`: MongoDB in production, memory
for the embedded demo. Which one runs is decided by one setting (``MONGODB_URI``), through
:func:`open_store`, so nothing else in the gateway needs to know."""

from __future__ import annotations

from datetime import timedelta

from gateway.store.memory import MemoryStore
from gateway.store.mongo import (
    DEFAULT_DEAD_LETTER_RETENTION,
    DEFAULT_HOLD_RETENTION,
    DEFAULT_RECEIPT_RETENTION,
    MongoStore,
)
from resolvers.store import Store

__all__ = [
    "DEFAULT_DEAD_LETTER_RETENTION",
    "DEFAULT_HOLD_RETENTION",
    "DEFAULT_RECEIPT_RETENTION",
    "MemoryStore",
    "MongoStore",
    "open_store",
]


def open_store(
    uri: str | None,
    database: str,
    *,
    receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
    dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
) -> Store:
    """``None`` means no database was configured: the demo runs on the memory store.

    The store is returned unconnected; the app calls ``init()`` inside its event loop (the
    async client binds to the loop it first runs in)."""
    if uri is None:
        return MemoryStore(
            receipt_retention=receipt_retention, dead_letter_retention=dead_letter_retention
        )
    return MongoStore(
        uri,
        database,
        receipt_retention=receipt_retention,
        dead_letter_retention=dead_letter_retention,
    )
