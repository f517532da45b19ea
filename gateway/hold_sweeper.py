"""The hold sweeper: what gives expired pickup holds their units back.

Every ``interval`` seconds one pass (:func:`resolvers.stock.settlement.sweep`) expires the
active holds whose ttl ran out and settles completed holds whose sale the vendor's count
never showed within the settle timeout. It runs in every replica without a lease: each
step is the store's conditional ``finish_hold``, so two replicas sweeping the same hold move
its units once, and the one whose write matched announces it.

If the sweeper never runs (turned off, or every replica down), nothing is oversold: an
expired hold's units stay in ``held``, so they are merely unsellable until a sweep, or until
anyone touches that hold (release or complete expire it on the spot). MongoDB's TTL index on
``purge_at`` is no substitute and is not meant to be: it deletes hold documents 30 days after
their expiry (``gateway.store.retention``), by when a running sweeper has long finished them,
so the collection does not grow forever; it never gives units back, which only
``finish_hold`` does, in one transaction with the status. A hold it deleted unfinished (no
sweep for 30 days) would leave its units in ``held``: unsellable, never oversold.

``trigger()`` runs a pass now and ``next_pass()`` awaits it, so tests never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from resolvers.stock.changes import StockServices
from resolvers.stock.settlement import SweepSummary, sweep

log = logging.getLogger("omnigate.holds")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HoldSweeper:
    def __init__(
        self,
        services: StockServices,
        *,
        interval: float,
        settle_timeout: timedelta,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """``interval`` in seconds; 0 runs no scheduled passes (``trigger`` still does)."""
        self.services = services
        self.interval = interval
        self.settle_timeout = settle_timeout
        self.clock = clock
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._started = 0
        self._finished = 0
        self._last: SweepSummary | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def passes(self) -> int:
        return self._finished

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="omnigate-hold-sweeper")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def trigger(self) -> None:
        """Sweep now (after the pass under way, if any) rather than at the next tick."""
        self._wake.set()

    def next_pass(self) -> Awaitable[SweepSummary | None]:
        """Wait for the first pass that starts after this call; its summary (``None`` if it
        failed)."""
        return self._finished_pass(self._started + 1)

    async def _finished_pass(self, target: int) -> SweepSummary | None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._finished >= target)
        return self._last

    async def run_once(self) -> SweepSummary:
        """One pass, now, in the caller's task."""
        return await sweep(self.services, self.clock(), settle_timeout=self.settle_timeout)

    async def _run(self) -> None:
        while True:
            if self.interval > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
            else:
                await self._wake.wait()
            self._wake.clear()
            await self._pass()

    async def _pass(self) -> None:
        self._started += 1
        number = self._started
        summary: SweepSummary | None = None
        try:
            summary = await self.run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("hold sweep failed; the next tick tries again")
        else:
            if summary.expired or summary.settled:
                log.info("holds swept: %d expired, %d settled", summary.expired, summary.settled)
        self._last = summary
        async with self._changed:
            self._finished = number
            self._changed.notify_all()
