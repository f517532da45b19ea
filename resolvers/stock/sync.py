"""Warmup and reconciliation: the stock view read from upstream in bulk.

Webhooks keep the view current, but vendors deliver them at least once, unordered and "not
always": a count changed with no webhook (or one lost in transit) is only seen by reading
upstream again. So the gateway reads every level of every inventory source
(``InventorySource.list_inventory_levels``, paged as each vendor serves it):

- once at start, :func:`warm_stock` (cause ``warmup``), so stock answers from the first
  request without a cold read per SKU;
- then every ``OMNIGATE_STOCK_RECONCILE_SECONDS``, :func:`reconcile_stock` (cause
  ``reconciliation``), which repairs drift.

Every level goes through :func:`resolvers.stock.levels.store_level`, the one path a
vendor-reported level takes into the store, so the store's timestamp rule still decides (a
level older than the stored one is never applied, whoever read it) and each change is
announced once. A level whose stored quantities differed from upstream and was replaced is
*repaired* (and logged with both versions); a level the store did not have is *loaded*. A
stored ``safety_stock`` that differs from the setting (the setting changed, no new level came
since) is corrected with the port's conditional ``set_safety_stock``.

One run at a time across replicas: a run holds the store lease ``stock:reconcile`` (see
:mod:`resolvers.lease`); a run that finds it taken returns at once with ``busy`` set. The last
run's summary is kept as the checkpoint ``stock:reconcile``, so ``health`` on every replica
reports it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.capabilities import InventorySource
from connectors.errors import UpstreamError
from connectors.records import InventoryLevel
from resolvers.lease import HOLDER, Lease
from resolvers.model import StockLevel
from resolvers.stock.changes import announce
from resolvers.stock.levels import store_level
from resolvers.stock.webhooks import FreshnessServices, stock_level

log = logging.getLogger("omnigate.stock.sync")

LEASE = "stock:reconcile"
LEASE_TTL = timedelta(seconds=60)
#: Where the last run's summary is kept (read by ``health``).
CHECKPOINT = "stock:reconcile"
#: Quantity names upstream does not decide: the safety stock is Omnigate's own setting.
OWN_QUANTITIES = frozenset({"safety_stock"})


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ReconcileSummary:
    """What one run did. ``repaired`` levels differed from upstream and were replaced;
    ``loaded`` ones were not in the store yet."""

    cause: str
    started_at: datetime
    finished_at: datetime | None = None
    read: int = 0
    loaded: int = 0
    repaired: int = 0
    #: Newer upstream timestamp, same quantities (a webhook was late, not lost).
    refreshed: int = 0
    unchanged: int = 0
    safety_stock_corrected: int = 0
    failed_sources: dict[str, str] = field(default_factory=dict)
    #: Another run held the lease: this one did nothing.
    busy: bool = False

    def lines(self) -> list[str]:
        if self.busy:
            return ["another run holds the stock lease: skipped"]
        out = [
            f"levels read: {self.read}",
            f"loaded: {self.loaded}",
            f"repaired: {self.repaired}",
            f"refreshed: {self.refreshed}",
            f"unchanged: {self.unchanged}",
        ]
        if self.safety_stock_corrected:
            out.append(f"safety stock corrected: {self.safety_stock_corrected}")
        out += [f"source failed: {s} ({code})" for s, code in self.failed_sources.items()]
        return out

    def as_checkpoint(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "read": self.read,
            "loaded": self.loaded,
            "repaired": self.repaired,
            "refreshed": self.refreshed,
            "safety_stock_corrected": self.safety_stock_corrected,
            "failed_sources": dict(self.failed_sources),
        }


async def warm_stock(
    services: FreshnessServices, *, holder: str = HOLDER, clock: Callable[[], datetime] = utcnow
) -> ReconcileSummary:
    """Load every upstream level into the store (at app start)."""
    return await _run(services, "warmup", holder, clock)


async def reconcile_stock(
    services: FreshnessServices, *, holder: str = HOLDER, clock: Callable[[], datetime] = utcnow
) -> ReconcileSummary:
    """Re-read every upstream level and repair what the store got wrong or missed."""
    return await _run(services, "reconciliation", holder, clock)


async def last_run(services: FreshnessServices) -> Mapping[str, Any] | None:
    """The summary of the last finished run, as kept in the store (``None`` before any)."""
    return await services.store.checkpoints.get_checkpoint(CHECKPOINT)


async def _run(
    services: FreshnessServices, cause: str, holder: str, clock: Callable[[], datetime]
) -> ReconcileSummary:
    summary = ReconcileSummary(cause=cause, started_at=clock())
    run = f"{holder}#{secrets.token_hex(3)}"
    lease = Lease(services.store.leases, LEASE, run, ttl=LEASE_TTL, clock=clock)
    if not await lease.acquire():
        summary.busy = True
        return summary
    async with lease:
        for source in services.connectors.of(InventorySource):
            try:
                async for page in source.list_inventory_levels():
                    if not lease.held:
                        break  # another holder runs now; it reads everything again
                    await _apply(services, page, summary)
            except UpstreamError as exc:
                log.warning("stock %s: %s failed (%s)", cause, source.source, exc.code)
                summary.failed_sources[str(source.source)] = exc.code
        summary.finished_at = clock()
        await services.store.checkpoints.set_checkpoint(CHECKPOINT, summary.as_checkpoint())
    return summary


async def _apply(
    services: FreshnessServices, page: Sequence[InventoryLevel], summary: ReconcileSummary
) -> None:
    if not page:
        return
    skus = sorted({level.sku for level in page})
    locations = sorted({level.location_id for level in page})
    stored = {
        (s.sku, s.location_id): s for s in await services.store.inventory.get_stock(skus, locations)
    }
    for level in page:
        summary.read += 1
        before = stored.get((level.sku, level.location_id))
        if before is not None and before.updated_at >= level.updated_at:
            # The store would refuse it (not newer): the steady state costs no write.
            summary.unchanged += 1
            await _correct_safety_stock(services, before, summary)
            continue
        change = await store_level(services, stock_level(level), cause=summary.cause)
        if before is None:
            summary.loaded += change is not None
            continue
        drift = _drift(before.quantities, level.quantities)
        if change is not None and drift:
            summary.repaired += 1
            log.warning(
                "stock repaired: %s at %s, stored %s, upstream %s (%s)",
                level.sku,
                level.location_id,
                {k: before.quantities.get(k) for k in drift},
                {k: level.quantities.get(k) for k in drift},
                summary.cause,
            )
        elif change is not None:
            summary.refreshed += 1
        else:
            summary.unchanged += 1
            await _correct_safety_stock(services, before, summary)


def _drift(stored: Mapping[str, int], upstream: Mapping[str, int]) -> list[str]:
    """The quantity names upstream reports whose stored value differs."""
    return sorted(
        name
        for name, value in upstream.items()
        if name not in OWN_QUANTITIES and stored.get(name) != value
    )


async def _correct_safety_stock(
    services: FreshnessServices, stored: StockLevel, summary: ReconcileSummary
) -> None:
    """A level that did not change upstream still carries the safety stock stamped when it
    was stored; the setting may have changed since."""
    wanted = services.config.safety_stock_for(stored.location_id)
    if stored.quantities.get("safety_stock", 0) == wanted:
        return
    change = await services.store.inventory.set_safety_stock(stored.sku, stored.location_id, wanted)
    if change is not None:
        summary.safety_stock_corrected += 1
        await announce(services, change)


__all__ = ["ReconcileSummary", "last_run", "reconcile_stock", "warm_stock"]
