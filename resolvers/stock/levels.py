"""The one path by which a level a vendor reported enters the store.

Webhooks, order-driven re-reads, the start-up warmup and reconciliation all call
:func:`store_level`, so each of them stamps the location's safety stock the same way,
refuses an older level the same way (the store's conditional write on ``updated_at``) and
announces what it stored exactly once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from resolvers.config import ResolverConfig
from resolvers.model import StockChange, StockLevel
from resolvers.stock.changes import StockServices, announce


class LevelServices(StockServices, Protocol):
    @property
    def config(self) -> ResolverConfig: ...


async def store_level(
    services: LevelServices, level: StockLevel, *, cause: str
) -> StockChange | None:
    """Store a vendor level (quantities only: ``held`` and ``version`` are the store's) with
    its location's safety stock, and announce it. ``None`` when the store already had this
    level or a newer one."""
    safety = services.config.safety_stock_for(level.location_id)
    stamped = replace(level, quantities={**level.quantities, "safety_stock": safety})
    change = await services.store.inventory.apply_stock_level(stamped, cause=cause)
    await announce(services, change)
    return change
