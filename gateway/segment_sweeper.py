"""The segment sweeper: what moves saved segments' members with the clock.

A person's membership is re-decided whenever their facts are written, but "no order in 90
days" also changes with time alone, and a retired profile is never built again. Every
``interval`` seconds one pass (:func:`resolvers.segments.saved.sweep`) re-decides every saved
segment against all facts, now. It runs in every replica without a lease: each change is the
store's conditional enter or leave, so two replicas sweeping at once record (and announce)
each change once, from whichever replica's write made it.

``trigger()`` runs a pass now and ``next_pass()`` awaits it, so tests never sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from gateway.periodic import Sweeper, utc_now
from resolvers.segments.saved import SavedServices, sweep

log = logging.getLogger("omnigate.segments")


class SegmentSweeper(Sweeper[int]):
    task_name = "omnigate-segment-sweeper"
    kind = "segment sweep"

    def __init__(
        self,
        services: SavedServices,
        *,
        interval: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(interval=interval, log=log, clock=clock)
        self.services = services

    async def run_once(self) -> int:
        """One pass, now, in the caller's task: how many changes it recorded."""
        return await sweep(self.services, clock=self.clock)

    def report(self, moved: int) -> None:
        if moved:
            log.info("segments swept: %d membership changes", moved)
