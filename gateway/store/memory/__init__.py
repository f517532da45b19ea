"""The in-process :class:`~resolvers.store.Store`: the embedded demo and fast tests.

Each port lives in a module of its own and keeps the same contract as its MongoDB
counterpart (each port's contract suite runs against both), with the same performance
shape: every lookup the counter tablet makes goes through a secondary index (a dict, or a
sorted list searched with :mod:`bisect` for name prefixes), so the demo's 50,000+ profiles
answer in O(log n), never by a scan.

Concurrency: the event loop is single-threaded, so a method that does not ``await`` between
its check and its write is already atomic. The invariant-guarding writes still take their
port's lock: it documents where atomicity matters and keeps it true if a future edit adds an
``await`` inside one of those sections.

Nothing internal escapes: mutable records (stock quantities, ledger ``meta``, merge-log
``before``, checkpoints) are copied on the way in and on the way out, profiles are kept
frozen, and the frozen records with only immutable fields (holds, identities, accounts) are
shared safely.

Datetimes are normalised like BSON does (UTC, milliseconds), so values read back compare equal
whichever backend runs.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.store.memory.catalog import MemoryCatalog
from gateway.store.memory.checkpoints import MemoryCheckpoints
from gateway.store.memory.codes import MemoryCodes
from gateway.store.memory.identities import MemoryIdentities
from gateway.store.memory.inventory import MemoryInventory
from gateway.store.memory.leases import MemoryLeases
from gateway.store.memory.ledger import MemoryLedger
from gateway.store.memory.profiles import MemoryProfiles
from gateway.store.memory.saved_segments import MemorySavedSegments
from gateway.store.memory.segments import MemorySegments
from gateway.store.memory.webhooks import MemoryWebhooks
from gateway.store.retention import DEFAULT_DEAD_LETTER_RETENTION, DEFAULT_RECEIPT_RETENTION

__all__ = [
    "MemoryCatalog",
    "MemoryCheckpoints",
    "MemoryCodes",
    "MemoryIdentities",
    "MemoryInventory",
    "MemoryLeases",
    "MemoryLedger",
    "MemoryProfiles",
    "MemorySavedSegments",
    "MemorySegments",
    "MemoryStore",
    "MemoryWebhooks",
]


class MemoryStore:
    """One memory port per aggregate. A test double replaces one attribute (a port that
    fails on demand, say) and keeps the others."""

    kind: str = "memory"

    def __init__(
        self,
        *,
        receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
        dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
    ) -> None:
        self.profiles = MemoryProfiles()
        self.identities = MemoryIdentities()
        self.inventory = MemoryInventory()
        self.catalog = MemoryCatalog()
        self.ledger = MemoryLedger()
        self.codes = MemoryCodes()
        self.webhooks = MemoryWebhooks(
            receipt_retention=receipt_retention, dead_letter_retention=dead_letter_retention
        )
        self.checkpoints = MemoryCheckpoints()
        self.leases = MemoryLeases()
        self.segments = MemorySegments()
        self.saved_segments = MemorySavedSegments()

    async def init(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True
