"""Counts of upstream requests, per connector and operation.

Tests assert on these ("the circuit was open, so nothing reached the vendor"; "one batched
call, not fifty") and benchmarks print them, so every attempt that goes on the wire is counted,
with its outcome, and retries and circuit rejections are counted apart from requests.

A counter is only touched from the event loop that owns the HTTP clients, so it needs no lock.

Counters are per process; what one GraphQL operation sent is tallied apart (:func:`tally_calls`)
in a context variable, which the tasks the operation starts (DataLoader batches) inherit, so
operations running at once each count their own requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CallTally:
    """Requests sent (every attempt) within one :func:`tally_calls` block and the tasks it
    started."""

    requests: int = 0


_tally: ContextVar[CallTally | None] = ContextVar("omnigate_call_tally", default=None)


@contextmanager
def tally_calls() -> Iterator[CallTally]:
    """Count the requests any counter records from here (and from tasks created here) until
    the block ends."""
    tally = CallTally()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        # Closed from another context (a generator the loop finalised), it cannot be reset;
        # the context it was set in is ending anyway.
        with suppress(ValueError):
            _tally.reset(token)


@dataclass(slots=True)
class _OperationStats:
    requests: int = 0
    retries: int = 0
    rejected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class RequestCounter:
    """Request, retry, rejection and outcome tallies keyed by (connector, operation)."""

    def __init__(self) -> None:
        self._stats: dict[tuple[str, str], _OperationStats] = {}

    def record(self, connector: str, operation: str, outcome: str) -> None:
        """One attempt went on the wire; ``outcome`` is its status (``"200"``) or error kind
        (``"timeout"``, ``"connection_error"``)."""
        stats = self._get(connector, operation)
        stats.requests += 1
        stats.outcomes[outcome] += 1
        tally = _tally.get()
        if tally is not None:
            tally.requests += 1

    def record_retry(self, connector: str, operation: str) -> None:
        """A failed attempt is about to be repeated."""
        self._get(connector, operation).retries += 1

    def record_rejected(self, connector: str, operation: str) -> None:
        """The circuit was open: the call failed without any request being sent."""
        self._get(connector, operation).rejected += 1

    def count(self, connector: str | None = None, operation: str | None = None) -> int:
        """Requests sent (every attempt), optionally narrowed to a connector and operation."""
        return sum(s.requests for s in self._matching(connector, operation))

    def retries(self, connector: str | None = None, operation: str | None = None) -> int:
        return sum(s.retries for s in self._matching(connector, operation))

    def rejected(self, connector: str | None = None, operation: str | None = None) -> int:
        return sum(s.rejected for s in self._matching(connector, operation))

    def outcomes(
        self, connector: str | None = None, operation: str | None = None
    ) -> dict[str, int]:
        total: Counter[str] = Counter()
        for stats in self._matching(connector, operation):
            total.update(stats.outcomes)
        return dict(total)

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{connector: {operation: {requests, retries, rejected, outcomes}}}``, a plain copy."""
        result: dict[str, dict[str, dict[str, Any]]] = {}
        for (connector, operation), stats in sorted(self._stats.items()):
            result.setdefault(connector, {})[operation] = {
                "requests": stats.requests,
                "retries": stats.retries,
                "rejected": stats.rejected,
                "outcomes": dict(stats.outcomes),
            }
        return result

    def reset(self) -> None:
        self._stats.clear()

    def _get(self, connector: str, operation: str) -> _OperationStats:
        key = (str(connector), operation)
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = _OperationStats()
        return stats

    def _matching(self, connector: str | None, operation: str | None) -> list[_OperationStats]:
        wanted = None if connector is None else str(connector)
        return [
            stats
            for (c, o), stats in self._stats.items()
            if (wanted is None or c == wanted) and (operation is None or o == operation)
        ]


#: The process-wide counter, for code that is not handed one explicitly.
DEFAULT_COUNTER = RequestCounter()
