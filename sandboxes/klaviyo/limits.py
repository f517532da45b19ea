"""Klaviyo's fixed-window rate limits, enforced by the sandbox.

Per endpoint (operation) there is a burst window of one second and a steady window of one
minute, aligned to the clock like Klaviyo's; a request that would exceed either is answered 429
with ``Retry-After`` (whole seconds until the full window ends) and Klaviyo's ``throttled``
error document, and does not count against the window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connectors.klaviyo.ratelimit import DEFAULT_LIMIT, RATE_LIMITS, RateLimit


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
