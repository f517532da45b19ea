"""Settling completed pickup holds, and the sweep that expires and settles on a timer.

A completed hold (picked up at the counter) keeps its units in ``held`` until the vendor's
own count shows the sale. Releasing them at completion would open a window, until the POS
or Shopify reports the lower count, in which the same units are sellable twice: once in the
customer's bag, once more on the shelf count. So:

- :func:`settle_reflected` runs after every vendor level is stored (``store_level``): walking
  that (sku, location)'s completed holds, oldest completion first, a hold settles when
  ``available`` has dropped, since the ``available`` recorded at its completion, by at least
  the units of it and every older unsettled hold. The first one the drop does not cover
  stops the walk: a later hold is never settled on a drop an earlier one may still need.
  That errs towards keeping units held (a walk-in sale may look like a pickup's), never
  towards selling them twice; the timeout ends it.
- :func:`sweep` (the gateway's hold sweeper, every few seconds) expires due active holds
  and settles completed holds older than the settle timeout, whose sale the vendor's count
  never showed (a sale rung up at another location, a count that was never reported).

Each step is the store's conditional ``finish_hold``: however many replicas sweep at once,
a hold's units come back once, and only the caller that moved it announces the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from resolvers.model import Hold, HoldStatus, StockLevel
from resolvers.stock.changes import StockServices, announce


@dataclass(frozen=True, slots=True)
class SweepSummary:
    expired: int = 0
    settled: int = 0


def reflected(level: StockLevel, completed: list[Hold]) -> list[Hold]:
    """The completed holds (oldest completion first) whose sale ``level`` shows."""
    available = level.quantities.get("available")
    if available is None:
        return []
    settled: list[Hold] = []
    cumulative = 0
    for hold in completed:
        if hold.available_at_completion is None:
            break
        cumulative += hold.quantity
        if hold.available_at_completion - available < cumulative:
            break
        settled.append(hold)
    return settled


async def settle_reflected(services: StockServices, level: StockLevel) -> int:
    """Settle what ``level`` (just stored from a vendor) shows was sold; how many settled."""
    inventory = services.store.inventory
    completed = await inventory.completed_holds(level.sku, level.location_id)
    count = 0
    for hold in reflected(level, completed):
        written = await inventory.finish_hold(hold.id, HoldStatus.SETTLED)
        if written is not None:
            await announce(services, written.change)
            count += 1
    return count


async def sweep(
    services: StockServices,
    now: datetime,
    *,
    settle_timeout: timedelta,
    batch: int = 100,
) -> SweepSummary:
    """Expire every active hold due by ``now`` and settle every hold completed more than
    ``settle_timeout`` before it, in batches until none is left."""
    inventory = services.store.inventory
    expired = settled = 0
    while due := await inventory.expired_holds(now, limit=batch):
        moved = 0
        for hold in due:
            written = await inventory.finish_hold(hold.id, HoldStatus.EXPIRED)
            if written is not None:
                await announce(services, written.change)
                moved += 1
        expired += moved
        if len(due) < batch or moved == 0:
            break
    while late := await inventory.unsettled_holds(now - settle_timeout, limit=batch):
        moved = 0
        for hold in late:
            written = await inventory.finish_hold(hold.id, HoldStatus.SETTLED)
            if written is not None:
                await announce(services, written.change)
                moved += 1
        settled += moved
        if len(late) < batch or moved == 0:
            break
    return SweepSummary(expired=expired, settled=settled)


__all__ = ["SweepSummary", "reflected", "settle_reflected", "sweep"]
