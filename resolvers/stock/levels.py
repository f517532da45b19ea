"""The one path by which a level a vendor reported enters the store.

Webhooks, order-driven re-reads, the start-up warmup and reconciliation all call
:func:`store_level`, so each of them stamps the location's safety stock the same way,
refuses an older level the same way (the store's conditional write on ``updated_at``),
takes a shared store's count from the one vendor that keeps it, and announces what it stored
exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from resolvers.config import ResolverConfig
from resolvers.locations import LocationDirectory
from resolvers.model import StockChange, StockLevel
from resolvers.stock.changes import StockServices, announce

log = logging.getLogger("omnigate.stock")


class LevelServices(StockServices, Protocol):
    @property
    def config(self) -> ResolverConfig: ...

    @property
    def locations(self) -> LocationDirectory: ...


async def store_level(
    services: LevelServices, level: StockLevel, *, cause: str
) -> StockChange | None:
    """Store a vendor level (quantities only: ``held`` and ``version`` are the store's) with
    its location's safety stock, and announce it. ``None`` when the store already had this
    level or a newer one, and when the level's source does not keep this location's stock
    (:meth:`~resolvers.locations.LocationDirectory.stock_source`)."""
    keeper = await services.locations.stock_source(level.location_id)
    if keeper is not None and level.source is not None and level.source != keeper:
        log.debug(
            "%s level of %s at %s ignored: %s keeps that stock",
            level.source,
            level.sku,
            level.location_id,
            keeper,
        )
        return None
    safety = services.config.safety_stock_for(level.location_id)
    stamped = replace(level, quantities={**level.quantities, "safety_stock": safety})
    change = await services.store.inventory.apply_stock_level(stamped, cause=cause)
    await announce(services, change)
    return change
