"""The hold sweeper: what gives expired pickup holds their units back.

Every ``interval`` seconds one pass (:func:`resolvers.stock.settlement.sweep`) expires the
active holds whose ttl ran out and settles completed holds whose sale the vendor's count
never showed within the settle timeout. It runs in every replica without a lease: each
step is the store's conditional ``finish_hold``, so two replicas sweeping the same hold move
its units once, and the one whose write matched announces it.

If the sweeper never runs (turned off, or every replica down), nothing is oversold: an
expired hold's units stay in ``held``, so they are merely unsellable until a sweep, or until
anyone touches that hold (release or complete expire it on the spot). MongoDB's TTL index on
``purge_at`` is no substitute and is not meant to be: ``purge_at`` is set when a hold
finishes, so the TTL monitor only deletes finished holds, 30 days on
(``gateway.store.retention``), and the collection does not grow forever; it never gives
units back, which only ``finish_hold`` does, in one transaction with the status.

``trigger()`` runs a pass now and ``next_pass()`` awaits it, so tests never sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.periodic import Sweeper, utc_now
from resolvers.stock.changes import StockServices
from resolvers.stock.settlement import SweepSummary, sweep

log = logging.getLogger("omnigate.holds")


class HoldSweeper(Sweeper[SweepSummary]):
    task_name = "omnigate-hold-sweeper"
    kind = "hold sweep"

    def __init__(
        self,
        services: StockServices,
        *,
        interval: float,
        settle_timeout: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(interval=interval, log=log, clock=clock)
        self.services = services
        self.settle_timeout = settle_timeout

    async def run_once(self) -> SweepSummary:
        """One pass, now, in the caller's task."""
        return await sweep(self.services, self.clock(), settle_timeout=self.settle_timeout)

    def report(self, summary: SweepSummary) -> None:
        if summary.expired or summary.settled:
            log.info("holds swept: %d expired, %d settled", summary.expired, summary.settled)
