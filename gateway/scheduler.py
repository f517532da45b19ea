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
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta

from resolvers.context import Services
from resolvers.customers.sync import DEFAULT_OVERLAP, SyncSummary, sync_customers
from resolvers.lease import HOLDER

log = logging.getLogger("omnigate.sync")

#: ``sync(services, incremental=..., overlap=..., holder=...)``; the real one by default.
SyncFunction = Callable[..., Awaitable[SyncSummary]]


class SyncScheduler:
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
        self.services = services
        self.interval = interval
        self.overlap = overlap
        self.holder = holder
        self._sync = sync
        #: Set once the start-up backfill has finished (at once when there is none).
        self.seeded = asyncio.Event()
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._started = 0
        self._finished = 0
        self._summaries: deque[tuple[int, SyncSummary | None]] = deque(maxlen=32)
        self._task: asyncio.Task[None] | None = None

    @property
    def passes(self) -> int:
        """Passes finished so far (successful or not), the start-up backfill included."""
        return self._finished

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, *, backfill: bool = False) -> None:
        """Run (``backfill``: a full sync first, then) a pass every ``interval`` seconds."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(backfill), name="omnigate-sync")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def trigger(self) -> None:
        """Start a pass now (after the one under way, if any) rather than at the next tick."""
        self._wake.set()

    def next_pass(self) -> Awaitable[SyncSummary | None]:
        """Wait for the first pass that starts after this call (not after the first await)
        to finish; its summary, or ``None`` if it failed."""
        return self._finished_pass(self._started + 1)

    async def _finished_pass(self, target: int) -> SyncSummary | None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._finished >= target)
        return next((s for n, s in self._summaries if n == target), None)

    async def _run(self, backfill: bool) -> None:
        try:
            if backfill:
                await self._pass(incremental=False)
        finally:
            self.seeded.set()
        if self.interval <= 0:
            return
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self._pass(incremental=True)

    async def _pass(self, *, incremental: bool) -> None:
        self._started += 1
        number = self._started
        summary: SyncSummary | None = None
        kind = "incremental" if incremental else "backfill"
        try:
            summary = await self._sync(
                self.services, incremental=incremental, overlap=self.overlap, holder=self.holder
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("customer sync (%s) failed; the next tick tries again", kind)
        else:
            # A pass that found nothing new (it re-reads its overlap) is not news.
            news = summary.profiles_created or summary.profiles_merged or not incremental
            level = logging.WARNING if summary.failed_sources else logging.INFO
            if not news and not summary.failed_sources:
                level = logging.DEBUG
            log.log(level, "customers synced (%s): %s", kind, "; ".join(summary.lines()))
        self._summaries.append((number, summary))
        async with self._changed:
            self._finished = number
            self._changed.notify_all()
