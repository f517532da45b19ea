"""The one clock that stamps what the sandboxes create or change.

A record made through a sandbox's control API (a sale, a new subscriber, a customer edit)
carries ``created_at``/``updated_at`` stamps, and the gateway's incremental sync asks each
vendor for what changed since a time. If every sandbox kept its own time, a sync since a
wall-clock instant would find the changes of one sandbox and not another's (the Shopify
sandbox once stamped "dataset date plus elapsed time", a month behind the others).

So the demo stack makes one :class:`SandboxClock` and gives it to every sandbox. Its choice,
made here once: **wall-clock UTC**, because that is what a real vendor stamps and what a
caller (or a test) compares with, and because sandboxes in separate processes (the
benchmark) then agree without sharing anything. Two guards on top:

- never before ``floor`` (the generated world's ``now``, its newest record): a change is
  always newer than anything generated, even on a machine whose date is before the dataset's;
- strictly increasing across every sandbox that shares it, at each vendor's resolution
  (Shopify stamps whole seconds, Square milliseconds): two changes never share a stamp, so
  "newer than what I read" is never ambiguous. A burst of changes within one second can run
  a stamp a few seconds ahead of the wall; it never runs behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

MICROSECOND = timedelta(microseconds=1)
MILLISECOND = timedelta(milliseconds=1)
SECOND = timedelta(seconds=1)


def wall_clock() -> datetime:
    return datetime.now(UTC)


def truncate(moment: datetime, resolution: timedelta) -> datetime:
    """``moment`` rounded down to a whole multiple of ``resolution`` (since the epoch)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // resolution) * resolution


class SandboxClock:
    def __init__(self, floor: datetime, *, wall: Callable[[], datetime] = wall_clock) -> None:
        self.floor = floor.astimezone(UTC)
        self._wall = wall
        self._last = self.floor

    def now(self, resolution: timedelta = MICROSECOND) -> datetime:
        """The wall-clock time in whole ``resolution`` units, after every earlier stamp."""
        current = truncate(self._wall().astimezone(UTC), resolution)
        if current <= self._last:
            current = truncate(self._last, resolution) + resolution
        self._last = current
        return current

    @property
    def last(self) -> datetime:
        """The newest stamp given (the floor before any)."""
        return self._last
