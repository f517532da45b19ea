"""The inventory port: stock levels per (sku, location), the pickup holds reserved against
them, and the journal of every change to a level.

Stock and holds are one aggregate because the invariant that matters, never reserving more
than is sellable (``available - safety_stock - held``), reads the vendor's quantities and
the store's own ``held`` in one conditional write, and a hold's document and the ``held``
it added move together in one transaction. Split in two ports, both would have to know the
stock document's shape and write it.

The journal belongs here too: every write that changes a level appends the level as stored,
with a store-wide ``seq``, in the same atomic step. A subscriber that reconnects asks for
the changes after the last ``seq`` it saw; if the journal were written by the caller after
the store write, a crash between the two would lose a change for good.

Hold lifecycle (``HoldStatus``)::

    ACTIVE --release--> RELEASED        units back
    ACTIVE --expire---> EXPIRED         units back
    ACTIVE --complete-> COMPLETED       units stay held (the vendor has not counted the sale)
    COMPLETED --settle-> SETTLED        units leave ``held`` (the vendor's count has the sale)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from resolvers.model import Hold, HoldStatus, HoldWrite, StockChange, StockLevel
from resolvers.store.inventory_figures import HoldFigures, SkuStock


class InventoryStore(Protocol):
    async def apply_stock_level(
        self, level: StockLevel, *, cause: str = "webhook"
    ) -> StockChange | None:
        """Store the level unless one as new or newer (by ``updated_at``) is already there, so
        a redelivered or late event is not applied, or announced, twice.

        ``held`` and ``version`` of the stored level are the store's: ``held`` is kept and
        ``version`` grows. Quantity names the level does not carry keep their stored value
        (a Shopify webhook reports only ``available``).
        Returns the journal entry written, or ``None`` when the level was refused.
        """
        ...

    async def set_safety_stock(
        self, sku: str, location_id: str, quantity: int
    ) -> StockChange | None:
        """Change a stored level's ``safety_stock`` (the location's setting, not a vendor
        fact, so ``updated_at`` stays). ``None`` when there is no level or it already has
        this value."""
        ...

    async def get_stock(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[StockLevel]:
        """Levels ordered by (sku, location); every location when ``location_ids`` is None."""
        ...

    async def create_hold(self, hold: Hold) -> HoldWrite | None:
        """Reserve ``hold.quantity`` atomically: only if the stock's sellable quantity covers
        it. Returns the stored hold with its change, the existing hold (no change) for a
        repeated ``idempotency_key`` or hold id, or ``None`` when there is not enough stock
        (or no level at all)."""
        ...

    async def finish_hold(self, hold_id: str, status: HoldStatus) -> HoldWrite | None:
        """Move a hold to a final ``status`` and give its units back: ``RELEASED`` and
        ``EXPIRED`` from ``ACTIVE``, ``SETTLED`` from ``COMPLETED``. ``None`` when that move
        does not apply (missing, or already moved), so units are returned exactly once."""
        ...

    async def complete_hold(self, hold_id: str, *, at: datetime) -> Hold | None:
        """``ACTIVE`` -> ``COMPLETED``; the units stay held. Records the level's
        ``available`` at that moment. ``None`` when the hold is not active."""
        ...

    async def get_hold(self, hold_id: str) -> Hold | None: ...

    async def holds_for_customer(self, customer_id: str, *, limit: int = 50) -> list[Hold]:
        """The customer's holds, newest first."""
        ...

    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        """``ACTIVE`` holds due at or before ``now``, soonest first."""
        ...

    async def completed_holds(self, sku: str, location_id: str) -> list[Hold]:
        """``COMPLETED`` (unsettled) holds at one level, oldest completion first."""
        ...

    async def unsettled_holds(self, completed_before: datetime, limit: int = 100) -> list[Hold]:
        """``COMPLETED`` holds completed before a time, oldest first (settlement timeout)."""
        ...

    async def changes_since(
        self,
        seq: int,
        *,
        skus: Sequence[str] | None = None,
        location_ids: Sequence[str] | None = None,
        limit: int = 500,
    ) -> list[StockChange]:
        """Journal entries with a ``seq`` above ``seq``, ascending, optionally filtered.
        Raises :class:`~resolvers.store.errors.CursorExpired` when entries after ``seq`` were
        already dropped by retention (the answer would silently miss some)."""
        ...

    async def last_seq(self) -> int:
        """The newest journal ``seq`` (0 when empty): where a subscriber starts."""
        ...

    async def hold_figures(
        self, since: datetime, until: datetime, location_ids: Sequence[str] | None = None
    ) -> list[HoldFigures]:
        """Per location, the holds created in ``[since, until)`` (every location when
        ``location_ids`` is None), by their status now; ordered by location id, only
        locations with a hold."""
        ...

    async def stock_figures(
        self,
        since: datetime,
        until: datetime,
        location_ids: Sequence[str] | None = None,
        *,
        first: int = 10,
    ) -> list[SkuStock]:
        """Per (location, sku) of the ``first`` SKUs with the most units sold in ``[since,
        until)``, from the journal as retained (see :mod:`.inventory_figures`); only levels
        with an entry in the period."""
        ...
