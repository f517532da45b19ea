"""Klaviyo's fixed-window rate limits, enforced by the sandbox.

Per endpoint (operation) there is a burst window of one second and a steady window of one
minute, aligned to the clock like Klaviyo's; a request that would exceed either is answered 429
with ``Retry-After`` (whole seconds until the full window ends) and Klaviyo's ``throttled``
error document, and does not count against the window.

The table is the sandbox's own, copied from ``x-klaviyo-ratelimit`` on each operation it
serves in Klaviyo's 2026-07-15 OpenAPI documents (``../shared/specs/klaviyo/``), not the
connector's pacing table: a wrong limit there is then caught by this sandbox's 429s instead of
mirrored by them. ``tests/sandboxes/klaviyo/test_limits.py`` checks the table against the
spec, and that it covers every route the sandbox serves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One operation's windows: ``burst`` requests per second, ``steady`` per minute."""

    burst: int
    steady: int

    @classmethod
    def parse(cls, spec: Mapping[str, str]) -> RateLimit:
        """From the spec's notation, ``{"burst": "75/s", "steady": "750/m"}``."""
        return cls(_count(spec["burst"], "s"), _count(spec["steady"], "m"))


def _count(text: str, unit: str) -> int:
    count, slash, per = text.partition("/")
    if not slash or per != unit or not count.isdigit():
        raise ValueError(f"expected '<count>/{unit}', got {text!r}")
    return int(count)


#: ``operationId -> x-klaviyo-ratelimit`` for every operation the sandbox serves.
RATE_LIMITS: dict[str, RateLimit] = {
    "get_profiles": RateLimit(burst=75, steady=750),
    "get_profile": RateLimit(burst=75, steady=750),
    "update_profile": RateLimit(burst=75, steady=750),
    "bulk_import_profiles": RateLimit(burst=10, steady=150),
    "get_bulk_import_profiles_job": RateLimit(burst=10, steady=150),
    "get_events": RateLimit(burst=350, steady=3500),
    "get_metrics": RateLimit(burst=10, steady=150),
    "request_profile_deletion": RateLimit(burst=3, steady=60),
}

#: For an operation missing from the table (one the control API names, say): the smallest
#: tier the served operations use.
DEFAULT_LIMIT = RateLimit(burst=10, steady=150)


@dataclass(slots=True)
class _Counter:
    window: int = -1
    count: int = 0


class FixedWindows:
    def __init__(
        self,
        limits: Mapping[str, RateLimit] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        enabled: bool = True,
    ) -> None:
        self.limits: dict[str, RateLimit] = dict(RATE_LIMITS if limits is None else limits)
        self.enabled = enabled
        self._clock = clock
        self._counters: dict[tuple[str, float], _Counter] = {}
        #: 429s answered per operation.
        self.throttled: dict[str, int] = {}

    def limit(self, operation: str) -> RateLimit:
        return self.limits.get(operation, DEFAULT_LIMIT)

    def admit(self, operation: str) -> int | None:
        """Count the request and return ``None``, or return the ``Retry-After`` seconds."""
        if not self.enabled:
            return None
        limit = self.limit(operation)
        now = self._clock()
        windows = ((1.0, limit.burst), (60.0, limit.steady))
        counters: list[_Counter] = []
        for seconds, allowed in windows:
            index = math.floor(now / seconds)
            counter = self._counters.setdefault((operation, seconds), _Counter())
            if counter.window != index:
                counter.window, counter.count = index, 0
            if counter.count >= allowed:
                self.throttled[operation] = self.throttled.get(operation, 0) + 1
                return max(1, math.ceil((index + 1) * seconds - now))
            counters.append(counter)
        for counter in counters:
            counter.count += 1
        return None

    def reset(self) -> None:
        self._counters.clear()
        self.throttled.clear()
