"""Stock warmup and scheduled reconciliation: what the app lifespan runs in the background.

- At start, once the store is initialised (at once, or when a store that was down comes
  up), one warmup (:func:`resolvers.stock.sync.warm_stock`) loads every upstream level, in
  the background: readiness never waits for it (a gateway whose vendors are slow still
  serves); :attr:`StockScheduler.warmed` is set once it has run.
- Then every ``interval`` seconds a reconciliation
  (:func:`resolvers.stock.sync.reconcile_stock`) re-reads upstream and repairs drift. A
  warmup that failed (a vendor down) is therefore retried by the schedule: a
  reconciliation loads whatever the store is missing.
- Runs happen one after another in one task; across replicas the store lease
  ``stock:reconcile`` keeps it to one at a time (a run that finds it taken is skipped).
- Each reconciliation first refreshes the catalog map (a product added upstream gets its
  SKU <-> vendor ids before its levels are read); a failed refresh is logged and the
  reconciliation runs anyway.
- A run that fails is logged; the next tick tries again. ``trigger()`` runs one now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from gateway.periodic import Periodic
from resolvers.context import Services
from resolvers.lease import HOLDER
from resolvers.stock.catalog import refresh_catalog
from resolvers.stock.sync import ReconcileSummary, reconcile_stock, warm_stock

log = logging.getLogger("omnigate.stock.sync")

#: ``run(services, holder=...)``; the real warmup and reconciliation by default.
RunFunction = Callable[..., Awaitable[ReconcileSummary]]
#: ``refresh(services)``: the catalog map's refresh, before each reconciliation.
CatalogFunction = Callable[[Services], Awaitable[object]]


class StockScheduler(Periodic[ReconcileSummary]):
    task_name = "omnigate-stock-sync"

    def __init__(
        self,
        services: Services,
        *,
        interval: float,
        warmup: bool = True,
        holder: str = HOLDER,
        warm: RunFunction = warm_stock,
        reconcile: RunFunction = reconcile_stock,
        catalog: CatalogFunction | None = refresh_catalog,
    ) -> None:
        """``interval`` is in seconds; 0 schedules no reconciliation (the warmup still
        runs when ``warmup``)."""
        super().__init__(interval=interval, log=log)
        self.services = services
        self.warmup = warmup
        self.holder = holder
        self._warm = warm
        self._reconcile = reconcile
        self._catalog = catalog
        #: Set once the start-up warmup has run (succeeded or not; at once without one).
        self.warmed = asyncio.Event()
        #: Set while the warmup waits for the store to be initialised.
        self.waiting_for_store = asyncio.Event()

    @property
    def runs(self) -> int:
        """Runs finished so far (successful or not), the warmup included."""
        return self.passes

    def start(self, *, store_ready: asyncio.Event | None = None) -> None:
        """Warm up (once ``store_ready`` is set, when given: a store that was down at start
        is warmed as soon as it is up), then reconcile every ``interval`` seconds."""
        self._start(lambda: self._run(store_ready))

    def next_run(self) -> Awaitable[ReconcileSummary | None]:
        """Wait for the first run that starts after this call to finish; its summary, or
        ``None`` if it failed."""
        return self.next_pass()

    async def _run(self, store_ready: asyncio.Event | None) -> None:
        try:
            if store_ready is not None and not store_ready.is_set():
                self.waiting_for_store.set()
                await store_ready.wait()
                self.waiting_for_store.clear()
            if self.warmup:
                await self._stock_pass(self._warm, "warmup")
        finally:
            self.warmed.set()
        if self.interval <= 0:
            return
        while True:
            await self._tick()
            await self._refresh_catalog()
            await self._stock_pass(self._reconcile, "reconciliation")

    async def _refresh_catalog(self) -> None:
        """Keep the SKU <-> vendor id map current (a product added upstream), before the
        reconciliation that reads its levels; a failure is logged and the pass goes on."""
        if self._catalog is None:
            return
        try:
            await self._catalog(self.services)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("catalog refresh failed; the next tick tries again")

    async def _stock_pass(self, run: RunFunction, kind: str) -> None:
        def report(summary: ReconcileSummary) -> None:
            level = logging.WARNING if summary.failed_sources or summary.repaired else logging.INFO
            log.log(level, "stock %s: %s", kind, "; ".join(summary.lines()))

        await self._once(lambda: run(self.services, holder=self.holder), f"stock {kind}", report)
