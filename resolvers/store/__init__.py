"""The store ports: what Omnigate persists, one narrow protocol per aggregate.

Declared here, beside the logic that uses them, so that resolvers depend on interfaces and
the gateway (which owns the MongoDB client) provides the implementations
(:mod:`gateway.store.memory`, :mod:`gateway.store.mongo`, one module per aggregate in each).
Each port has its own contract suite (``tests/store/test_<port>_contract.py``) that holds
both implementations to the same behaviour.

==================  =====================================================  ======================
port                what it keeps                                          module
==================  =====================================================  ======================
``profiles``        cached unified profiles, lookup keys, versions, stubs  :mod:`.profiles`
``identities``      vendor records -> profiles, merge log, tombstones      :mod:`.identities`
``inventory``       stock levels and the pickup holds reserved on them     :mod:`.inventory`
``catalog``         one entry per SKU: title, price, every vendor's ids    :mod:`.catalog`
``codes``           member and referral codes -> the customer they name    :mod:`.codes`
``ledger``          loyalty entries and account balances                   :mod:`.ledger`
``webhooks``        delivery receipts and claims, dead letters             :mod:`.webhooks`
``checkpoints``     where resumable jobs left off                          :mod:`.checkpoints`
``leases``          one holder at a time for a named job                   :mod:`.leases`
``segments``        per-profile facts that segments filter on              :mod:`.segments`
``saved_segments``  saved segments and their recorded members              :mod:`.saved_segments`
==================  =====================================================  ======================

:class:`Store` bundles one of each with the lifecycle (``init``/``close``/``ping``), so
``Services`` holds one object and a caller reads as ``store.profiles.get_profiles(...)``.
Code that needs one aggregate only takes that port (``Lease`` takes a :class:`LeaseStore`).

Every method that guards an invariant (no oversold stock, no negative balance, one effect per
idempotency key, no older stock overwriting newer) does so atomically inside the store, in one
conditional write (or one transaction, where two documents move together): callers never
read-then-write.
"""

from __future__ import annotations

from typing import Protocol

from resolvers.store.catalog import CatalogEntry, CatalogStore
from resolvers.store.checkpoints import CheckpointStore
from resolvers.store.codes import CodeStore
from resolvers.store.errors import StoreError, VersionConflict
from resolvers.store.identities import IdentityStore
from resolvers.store.inventory import InventoryStore
from resolvers.store.leases import LeaseStore
from resolvers.store.ledger import LedgerStore
from resolvers.store.profiles import ProfileStore
from resolvers.store.saved_segments import SavedSegmentStore
from resolvers.store.segments import SegmentFactStore
from resolvers.store.webhooks import DeadLetter, ReceiptClaim, WebhookStore

__all__ = [
    "CatalogEntry",
    "CatalogStore",
    "CheckpointStore",
    "CodeStore",
    "DeadLetter",
    "IdentityStore",
    "InventoryStore",
    "LeaseStore",
    "LedgerStore",
    "ProfileStore",
    "ReceiptClaim",
    "SavedSegmentStore",
    "SegmentFactStore",
    "Store",
    "StoreError",
    "VersionConflict",
    "WebhookStore",
]


class Store(Protocol):
    """One port per aggregate, on one backend, started and stopped together.

    The ports are read-only properties so an implementation may expose its own concrete
    classes (a test double replaces one port and keeps the rest)."""

    #: ``memory`` or ``mongo``: shown by ``health``.
    kind: str

    @property
    def profiles(self) -> ProfileStore: ...

    @property
    def identities(self) -> IdentityStore: ...

    @property
    def inventory(self) -> InventoryStore: ...

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def ledger(self) -> LedgerStore: ...

    @property
    def codes(self) -> CodeStore: ...

    @property
    def webhooks(self) -> WebhookStore: ...

    @property
    def checkpoints(self) -> CheckpointStore: ...

    @property
    def leases(self) -> LeaseStore: ...

    @property
    def segments(self) -> SegmentFactStore: ...

    @property
    def saved_segments(self) -> SavedSegmentStore: ...

    async def init(self) -> None:
        """Prepare every port (create collections and indexes). Idempotent; called at
        start-up, and retried by the gateway while the backend is unreachable."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the store answers (and is initialised); used by ``/readyz``."""
        ...
