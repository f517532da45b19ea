"""The sandbox's cost bucket: Shopify's leaky bucket per app and shop.

A query is admitted only if its whole requested cost is available; it is charged that cost
up front and refunded the difference once its actual cost is known. ``throttled_status``
chooses how a refusal is answered (Shopify is seen sending ``THROTTLED`` with 200 and 429).
The clock is injectable so tests can drive refills without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Bucket:
    maximum_available: float = 1000.0
    restore_rate: float = 100.0
    throttled_status: int = 200
    clock: Callable[[], float] = time.monotonic
    available: float = field(init=False)
    _stamp: float = field(init=False)
    #: Answers given, by kind: tests assert e.g. that a paced client was never throttled.
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.available = self.maximum_available
        self._stamp = self.clock()
        self.counts = {"ok": 0, "throttled": 0, "max_cost_exceeded": 0}

    def refill(self) -> None:
        now = self.clock()
        self.available = min(
            self.maximum_available, self.available + (now - self._stamp) * self.restore_rate
        )
        self._stamp = now

    def charge(self, cost: float) -> bool:
        """Take ``cost`` points if they are all there; otherwise take nothing."""
        self.refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def refund(self, points: float) -> None:
        self.refill()
        self.available = min(self.maximum_available, self.available + max(points, 0.0))

    def seconds_until(self, cost: float) -> float:
        self.refill()
        return max(0.0, (cost - self.available) / self.restore_rate)

    def status(self) -> dict[str, float]:
        self.refill()
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": float(int(self.available)),
            "restoreRate": float(self.restore_rate),
        }

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply control-API settings; unknown keys raise ``ValueError``."""
        allowed = {"maximumAvailable", "restoreRate", "currentlyAvailable", "throttledStatus"}
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        self.refill()
        if "maximumAvailable" in settings:
            self.maximum_available = _positive(settings["maximumAvailable"], "maximumAvailable")
            self.available = min(self.available, self.maximum_available)
        if "restoreRate" in settings:
            self.restore_rate = _positive(settings["restoreRate"], "restoreRate")
        if "currentlyAvailable" in settings:
            value = settings["currentlyAvailable"]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError("currentlyAvailable must be a non-negative number")
            self.available = min(float(value), self.maximum_available)
        if "throttledStatus" in settings:
            if settings["throttledStatus"] not in (200, 429):
                raise ValueError("throttledStatus must be 200 or 429")
            self.throttled_status = int(settings["throttledStatus"])


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{name} must be a positive number")
    return float(value)
