"""Scheduled customer sync: what the app lifespan runs in the background.

Webhooks keep most profiles current, but not all changes arrive as webhooks: Klaviyo sends
none for a new subscriber, and a webhook lost in transit is never redelivered. So every
``interval`` seconds one incremental pass reads what each source changed since its own
checkpoint (:func:`resolvers.customers.sync.sync_customers` with ``incremental=True``).

- The start-up backfill, when configured, is the first pass; scheduled passes follow it.
- Passes run one after another in one task, so a process never runs two at once; across
  processes and replicas the sync's store lease keeps it to one (a pass that finds the lease
  taken is skipped and the next tick tries again).
- A pass that fails is logged and retried at the next tick; its checkpoints did not move.
- ``trigger()`` starts a pass now instead of at the next tick (operators, tests).
- ``stop()`` cancels the task, and with it a pass under way; the pass releases its lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from gateway.periodic import Periodic
from resolvers.context import Services
from resolvers.customers.sync import DEFAULT_OVERLAP, SyncSummary, sync_customers
from resolvers.lease import HOLDER

log = logging.getLogger("omnigate.sync")

#: ``sync(services, incremental=..., overlap=..., holder=...)``; the real one by default.
SyncFunction = Callable[..., Awaitable[SyncSummary]]


class SyncScheduler(Periodic[SyncSummary]):
    task_name = "omnigate-sync"

    def __init__(
        self,
        services: Services,
        *,
        interval: float,
        overlap: timedelta = DEFAULT_OVERLAP,
        holder: str = HOLDER,
        sync: SyncFunction = sync_customers,
    ) -> None:
        """``interval`` is in seconds; 0 schedules no passes (a start-up backfill still runs
        when asked for)."""
        super().__init__(interval=interval, log=log)
        self.services = services
        self.overlap = overlap
        self.holder = holder
        self._sync = sync
        #: Set once the start-up backfill has finished (at once when there is none).
        self.seeded = asyncio.Event()

    def start(self, *, backfill: bool = False) -> None:
        """Run (``backfill``: a full sync first, then) a pass every ``interval`` seconds."""
        self._start(lambda: self._run(backfill))

    async def _run(self, backfill: bool) -> None:
        try:
            if backfill:
                await self._pass(incremental=False)
        finally:
            self.seeded.set()
        if self.interval <= 0:
            return
        while True:
            await self._tick()
            await self._pass(incremental=True)

    async def _pass(self, *, incremental: bool) -> None:
        kind = "incremental" if incremental else "backfill"

        def report(summary: SyncSummary) -> None:
            # A pass that found nothing new (it re-reads its overlap) is not news.
            news = summary.profiles_created or summary.profiles_merged or not incremental
            level = logging.WARNING if summary.failed_sources else logging.INFO
            if not news and not summary.failed_sources:
                level = logging.DEBUG
            log.log(level, "customers synced (%s): %s", kind, "; ".join(summary.lines()))

        await self._once(
            lambda: self._sync(
                self.services, incremental=incremental, overlap=self.overlap, holder=self.holder
            ),
            f"customer sync ({kind})",
            report,
        )
