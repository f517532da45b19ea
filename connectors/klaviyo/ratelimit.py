"""Client-side pacing for Klaviyo's fixed-window rate limits.

Klaviyo limits every endpoint with two fixed windows, a burst per second and a steady rate per
minute (``x-klaviyo-ratelimit`` on each operation in the OpenAPI spec), and answers 429 with
``Retry-After`` once a window is full. A 429 costs a round trip and, worse, a wait of up to a
whole window, so the client keeps under the limits itself: 200 concurrent reads then queue
here for a moment instead of surfacing throttling to a GraphQL client.

The pacer cannot see where the server's windows start, so it enforces the stronger property
that no interval of a window's length holds more than its limit, and it counts a request from
the moment it is sent until one window after its answer arrived. The server counts a request
at some instant between those two, so every fixed window on the server, wherever it starts,
sees at most the limit: at the moment the last of ``limit + 1`` requests would be sent, the
others would all still be in flight or answered less than a window ago.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``limit`` requests per ``seconds``."""

    limit: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One endpoint's windows, as ``x-klaviyo-ratelimit`` states them (``75/s``, ``750/m``)."""

    burst: int
    steady: int

    @property
    def windows(self) -> tuple[Window, Window]:
        return Window(self.burst, 1.0), Window(self.steady, 60.0)

    @classmethod
    def parse(cls, spec: Mapping[str, str]) -> RateLimit:
        """From the spec's ``{"burst": "75/s", "steady": "750/m"}``."""
        return cls(_per(spec["burst"], "s"), _per(spec["steady"], "m"))


def _per(value: str, unit: str) -> int:
    count, _, per = value.partition("/")
    if per != unit:
        raise ValueError(f"expected a limit per {unit!r}, got {value!r}")
    return int(count)


#: Limits of the operations this connector calls, keyed by the spec's ``operationId`` (which is
#: also the ``operation`` name the request counters use). Copied from ``x-klaviyo-ratelimit`` in
#: the 2026-07-15 spec; a contract test checks them against the spec files.
RATE_LIMITS: dict[str, RateLimit] = {
    "get_profiles": RateLimit(75, 750),
    "update_profile": RateLimit(75, 750),
    "bulk_import_profiles": RateLimit(10, 150),
    "get_bulk_import_profiles_job": RateLimit(10, 150),
    "get_events": RateLimit(350, 3500),
    "get_metrics": RateLimit(10, 150),
    "request_profile_deletion": RateLimit(3, 60),
}

#: What an operation missing from the table gets: Klaviyo's most common tier.
DEFAULT_LIMIT = RateLimit(10, 150)


class WindowPacer:
    """Admits calls so that no window-long interval holds more than a window's limit.

    ``margin`` lengthens each window a little so that timer granularity can never let a
    request in a hair early.
    """

    def __init__(
        self,
        windows: tuple[Window, ...],
        *,
        margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not windows:
            raise ValueError("a pacer needs at least one window")
        self.windows = windows
        self._margin = margin
        self._clock = clock
        self._longest = max(w.seconds for w in windows) + margin
        #: Completion times of answered calls, oldest first (the clock only moves forward).
        self._done: list[float] = []
        self._in_flight = 0
        self._changed = asyncio.Condition()
        #: Calls that had to wait, for tests and logs.
        self.delayed = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the duration of one call."""
        await self.acquire()
        try:
            yield
        finally:
            await self.release()

    async def acquire(self) -> None:
        waited = False
        async with self._changed:
            while True:
                delay = self._delay(self._clock())
                if delay <= 0:
                    self._in_flight += 1
                    if waited:
                        self.delayed += 1
                    return
                waited = True
                # Wake at the computed time, or earlier when a call completes (which may free
                # a slot held by an in-flight call). An infinite delay waits for that alone.
                timeout = None if math.isinf(delay) else delay
                try:
                    async with asyncio.timeout(timeout):
                        await self._changed.wait()
                except TimeoutError:
                    pass

    async def release(self) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._done.append(self._clock())
            self._changed.notify_all()

    def _delay(self, now: float) -> float:
        """Seconds until one more call fits every window (``inf``: wait for a completion)."""
        done = self._done
        expired = bisect.bisect_right(done, now - self._longest)
        if expired:
            del done[:expired]
        delay = 0.0
        for window in self.windows:
            length = window.seconds + self._margin
            first = bisect.bisect_right(done, now - length)
            recent = len(done) - first
            used = self._in_flight + recent
            if used < window.limit:
                continue
            # ``excess`` of the counted calls must leave the window; in-flight ones only leave
            # after completing, so if answered ones do not suffice, wait for a completion.
            excess = used - window.limit + 1
            if excess > recent:
                return math.inf
            delay = max(delay, done[first + excess - 1] + length - now)
        return delay


class Pacers:
    """One pacer per operation, created on first use from the limit table."""

    def __init__(
        self,
        limits: Mapping[str, RateLimit] | None = None,
        *,
        default: RateLimit = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(RATE_LIMITS if limits is None else limits)
        self._default = default
        self._clock = clock
        self._pacers: dict[str, WindowPacer] = {}

    def limit(self, operation: str) -> RateLimit:
        return self._limits.get(operation, self._default)

    def for_operation(self, operation: str) -> WindowPacer:
        pacer = self._pacers.get(operation)
        if pacer is None:
            pacer = WindowPacer(self.limit(operation).windows, clock=self._clock)
            self._pacers[operation] = pacer
        return pacer

    def delayed(self, operation: str | None = None) -> int:
        """Calls that waited for a slot (one operation, or all)."""
        if operation is not None:
            pacer = self._pacers.get(operation)
            return pacer.delayed if pacer is not None else 0
        return sum(p.delayed for p in self._pacers.values())
