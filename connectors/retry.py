"""The retry policy's pure parts, shared by every vendor call: which calls may be repeated,
which statuses mean "try again shortly", how long to wait before the next attempt, and how to
read a server's ``Retry-After``.

:class:`~connectors.http.HttpClient` applies them per call, with what only it knows: the
verdict on each attempt, the circuit (no backoff is waited out once the circuit opened) and
the work's deadline (no wait that would pass it). Hand-written rather than ``tenacity`` or
``stamina``; ``docs/decisions.md`` says why.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: Methods HTTP defines as idempotent: repeating them cannot apply a change twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

#: Statuses that mean "try again shortly": rate limiting and the gateway-ish 5xx family.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date.

    Returns ``None`` when absent or unreadable (then plain backoff applies) and ``0.0`` for a
    date already past. Fractional seconds are accepted because some servers (and our
    sandboxes) send them.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def backoff_delay(
    retry: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    retry_after_max: float = 30.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``retry`` (0 for the first).

    Full jitter (a uniform draw in ``[0, min(cap, base * 2**retry))``) keeps many clients that
    failed together from retrying together. A server's ``Retry-After`` (capped at
    ``retry_after_max``) is the minimum wait, and the jitter is added on top of it for the same
    reason: everyone rate-limited in one window receives the same hint.
    """
    ceiling = min(cap, base * (2**retry))
    jitter = rand() * ceiling
    if retry_after is None:
        return jitter
    return min(max(retry_after, 0.0), retry_after_max) + jitter
