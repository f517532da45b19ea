"""The loyalty sweeper: settles pending earns whose return window has passed (for members
nobody's rebuild reaches meanwhile; :func:`resolvers.loyalty.earning.settle_due`, safe on
every replica at once, since each settlement is one step of its order's chain), then lets
points lapse after the programme's inactivity period.

Every ``interval`` seconds one pass (:func:`resolvers.loyalty.expiry.sweep`) takes the store
lease ``loyalty:expiry`` (one replica sweeps; a pass that finds it taken does nothing) and
writes one ``EXPIRE`` entry for each account with points and no movement for
``OMNIGATE_LOYALTY_EXPIRY_DAYS``. If it never runs, nothing is lost: points simply lapse
later, at the next pass. ``trigger()`` runs a pass now and ``next_pass()`` awaits it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from gateway.periodic import Sweeper, utc_now
from resolvers.loyalty.earning import settle_due
from resolvers.loyalty.expiry import ExpiryServices, ExpirySummary, sweep

log = logging.getLogger("omnigate.loyalty.expiry")


class ExpirySweeper(Sweeper[ExpirySummary]):
    task_name = "omnigate-loyalty-expiry"
    kind = "loyalty expiry"

    def __init__(
        self,
        services: ExpiryServices,
        *,
        interval: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(interval=interval, log=log, clock=clock)
        self.services = services

    async def run_once(self) -> ExpirySummary:
        """One pass, now, in the caller's task."""
        settled = await settle_due(self.services, now=self.clock())
        if settled:
            log.info("loyalty: %d pending earns settled after their return window", settled)
        return await sweep(self.services, clock=self.clock)

    def report(self, summary: ExpirySummary) -> None:
        if summary.expired:
            log.info(
                "loyalty: %d accounts' points lapsed (%d points)", summary.expired, summary.points
            )
