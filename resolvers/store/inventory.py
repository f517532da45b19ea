"""The inventory port: stock levels per (sku, location) and the pickup holds reserved
against them.

Stock and holds are one aggregate because the invariant that matters, never reserving more
than is sellable (``available - safety_stock - held``), reads the vendor's quantities and
the store's own ``held`` in one conditional write, and a hold's document and the ``held``
it added move together in one transaction. Split in two ports, both would have to know the
stock document's shape and write it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from resolvers.model import Hold, HoldStatus, StockLevel


class InventoryStore(Protocol):
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
