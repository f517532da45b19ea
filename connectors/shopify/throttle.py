"""Client-side pacing against Shopify's cost-based leaky bucket.

Shopify keeps one bucket per app and shop (1,000 points, refilled at 100 points/s on
Standard plans). A query needs its whole requested cost available when it arrives, or it is
answered ``THROTTLED`` without being run. Finding that out by being throttled wastes a round
trip and, with many concurrent callers, turns into a thundering herd; so the client keeps an
estimate of the shop's bucket and waits *before* sending until the estimate covers the cost.

The estimate is fed by ``extensions.cost.throttleStatus`` on every answer and is deliberately
pessimistic:

* a call reserves its requested cost when it is let through, so concurrent callers see each
  other's reservations before Shopify does;
* on an answer, the estimate becomes the lower of (a) the local figure plus the refund of
  requested minus actual cost and (b) Shopify's ``currentlyAvailable`` minus what other calls
  still have in flight. (a) protects against stale answers arriving out of order, (b) against
  other consumers of the same bucket (another gateway replica).
* until the first answer says how big the bucket is, only one call is in flight.

Waiting is first come, first served (one lock held while sleeping), so a large query is not
starved by a stream of small ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

Sleep = Callable[[float], Awaitable[object]]


#: Tolerance on point arithmetic: refills are float products of elapsed time and rate, and
#: waiting for a 1e-15 shortfall could spin forever on a clock that does not move that little.
_EPSILON = 1e-6


class ThrottleTimeout(Exception):
    """Enough points will not be available before the caller's deadline."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"needs {wait:.2f}s more than the deadline allows")
        self.wait = wait


class CostExceedsBucket(Exception):
    """The query costs more than the bucket can ever hold."""


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_cost(cls, cost: object) -> ThrottleStatus | None:
        """From ``extensions.cost`` of an answer; ``None`` when absent or malformed."""
        if not isinstance(cost, Mapping):
            return None
        status = cost.get("throttleStatus")
        if not isinstance(status, Mapping):
            return None
        try:
            return cls(
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(slots=True)
class Ticket:
    """One admitted call. ``probe`` calls run while the bucket size is still unknown."""

    cost: float
    probe: bool
    settled: bool = False


class CostBucket:
    """The client's estimate of one shop's bucket."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._capacity: float | None = None
        self._rate = 1.0
        self._available = 0.0
        self._stamp = clock()
        self._in_flight = 0.0
        self._queue = asyncio.Lock()
        self._probe = asyncio.Lock()
        #: Set whenever an answer changes the estimate, to wake a waiter early (a refund can
        #: make its points available long before the refill it was sleeping for).
        self._changed = asyncio.Event()

    @property
    def known(self) -> bool:
        return self._capacity is not None

    @property
    def capacity(self) -> float | None:
        return self._capacity

    @property
    def restore_rate(self) -> float:
        return self._rate

    def available(self) -> float:
        """The current estimate of points available (refilled to now)."""
        self._refill()
        return self._available

    def state(self) -> dict[str, Any]:
        return {
            "capacity": self._capacity,
            "restore_rate": self._rate,
            "available": round(self.available(), 3),
            "in_flight": self._in_flight,
        }

    async def acquire(self, cost: float, deadline: float) -> Ticket:
        """Wait until ``cost`` points are (estimated) available, and reserve them.

        Raises :class:`ThrottleTimeout` when that cannot happen before ``deadline`` (a value
        of this bucket's clock), and :class:`CostExceedsBucket` when it never can.
        """
        if self._capacity is None:
            await self._lock(self._probe, deadline)
            if self._capacity is None:
                return Ticket(cost, probe=True)
            self._probe.release()
        if cost > self._capacity:
            raise CostExceedsBucket(f"cost {cost:g} exceeds the bucket ({self._capacity:g})")
        await self._lock(self._queue, deadline)
        try:
            while True:
                self._refill()
                if self._available >= cost - _EPSILON:
                    self._available -= cost
                    self._in_flight += cost
                    return Ticket(cost, probe=False)
                wait = (cost - self._available) / self._rate
                if self._clock() + wait > deadline:
                    raise ThrottleTimeout(wait)
                await self._nap(wait)
        finally:
            self._queue.release()

    def settle(
        self,
        ticket: Ticket,
        status: ThrottleStatus | None,
        *,
        actual: float | None = None,
        throttled: bool = False,
    ) -> None:
        """Account for an answer to ``ticket``'s call (see the module docstring)."""
        if ticket.settled:
            return
        ticket.settled = True
        try:
            if not ticket.probe:
                self._in_flight = max(0.0, self._in_flight - ticket.cost)
            self._refill()
            if status is None:
                if throttled and not ticket.probe:
                    self._available += ticket.cost
                return
            self._capacity = status.maximum_available
            self._rate = max(status.restore_rate, 1e-6)
            server = status.currently_available - self._in_flight
            if ticket.probe:
                self._available = server
            else:
                if throttled:
                    local = self._available + ticket.cost
                else:
                    spent = ticket.cost if actual is None else min(actual, ticket.cost)
                    local = self._available + (ticket.cost - spent)
                self._available = min(local, server)
            self._available = min(self._available, self._capacity)
        finally:
            self._changed.set()
            if ticket.probe:
                self._probe.release()

    def cancel(self, ticket: Ticket) -> None:
        """The call failed without an answer to learn from. Its points stay spent (Shopify may
        have charged them); only the in-flight mark is removed."""
        if ticket.settled:
            return
        ticket.settled = True
        if ticket.probe:
            self._probe.release()
        else:
            self._in_flight = max(0.0, self._in_flight - ticket.cost)

    def time_until(self, cost: float) -> float:
        """Seconds until ``cost`` points should be available (0 if they are now)."""
        missing = cost - self.available()
        return max(0.0, missing / self._rate)

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if an answer updates the estimate meanwhile."""
        self._changed.clear()
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                if not task.done():
                    task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    def _refill(self) -> None:
        now = self._clock()
        if self._capacity is not None:
            self._available = min(
                self._capacity, self._available + (now - self._stamp) * self._rate
            )
        self._stamp = now

    async def _lock(self, lock: asyncio.Lock, deadline: float) -> None:
        if not lock.locked():
            await lock.acquire()
            return
        remaining = deadline - self._clock()
        try:
            await asyncio.wait_for(lock.acquire(), timeout=max(remaining, 0.0))
        except TimeoutError:
            raise ThrottleTimeout(0.0) from None
