"""What the gateway's background loops share: one task, passes one after another, a timer or
a ``trigger()``, and a way for tests and operators to await "the next pass" without sleeping.

Customer sync (:mod:`gateway.scheduler`), stock warmup and reconciliation
(:mod:`gateway.stock_scheduler`) and the sweepers (holds, points expiry, saved segments) differ
only in what a pass does and how it is logged; :class:`Periodic` is the rest, and
:class:`Sweeper` the rest of a loop whose passes only need "now" (a clock tests can move).
A pass that fails is logged by :meth:`Periodic._once` and the loop goes on: the next tick
tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class Periodic(Generic[R]):
    """A background loop of passes that each return an ``R`` (a summary)."""

    #: The asyncio task's name.
    task_name = "omnigate-periodic"

    def __init__(self, *, interval: float, log: logging.Logger) -> None:
        self.interval = interval
        self._log = log
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._started = 0
        self._finished = 0
        self._results: deque[tuple[int, R | None]] = deque(maxlen=32)
        self._task: asyncio.Task[None] | None = None

    @property
    def passes(self) -> int:
        """Passes finished so far, successful or not."""
        return self._finished

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _start(self, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start the loop ``main()`` once; a second start is a no-op."""
        if self._task is None:
            self._task = asyncio.create_task(main(), name=self.task_name)

    async def stop(self) -> None:
        """Cancel the loop, and with it a pass under way."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def trigger(self) -> None:
        """Run a pass now (after the one under way, if any) rather than at the next tick."""
        self._wake.set()

    def next_pass(self) -> Awaitable[R | None]:
        """Wait for the first pass that starts after this call (not after the first await)
        to finish; its result, or ``None`` if it failed."""
        return self._finished_pass(self._started + 1)

    async def _finished_pass(self, target: int) -> R | None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._finished >= target)
        return next((r for n, r in self._results if n == target), None)

    async def _tick(self) -> None:
        """Until the next pass is due: ``interval`` seconds or a trigger (only a trigger when
        the interval is 0)."""
        if self.interval > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
        else:
            await self._wake.wait()
        self._wake.clear()

    async def _once(
        self, run: Callable[[], Awaitable[R]], kind: str, report: Callable[[R], None]
    ) -> R | None:
        """One pass: its result is ``report``ed, or its failure logged, and either way it
        counts as finished for :meth:`next_pass`."""
        self._started += 1
        number = self._started
        result: R | None = None
        try:
            result = await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            self._log.exception("%s failed; the next tick tries again", kind)
        else:
            report(result)
        self._results.append((number, result))
        async with self._changed:
            self._finished = number
            self._changed.notify_all()
        return result


def utc_now() -> datetime:
    return datetime.now(UTC)


class Sweeper(Periodic[R]):
    """A loop of passes that each do :meth:`run_once` at ``clock()`` and are logged by
    :meth:`report`; subclasses name the pass (``kind``) and write those two."""

    kind = "sweep"

    def __init__(
        self,
        *,
        interval: float,
        log: logging.Logger,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``interval`` in seconds; 0 runs no scheduled passes (``trigger`` still does)."""
        super().__init__(interval=interval, log=log)
        self.clock = clock

    def start(self) -> None:
        self._start(self._run)

    async def run_once(self) -> R:
        """One pass, now, in the caller's task."""
        raise NotImplementedError

    def report(self, result: R) -> None:
        """Log what a pass did (nothing by default)."""

    async def _run(self) -> None:
        while True:
            await self._tick()
            await self._once(self.run_once, self.kind, self.report)
