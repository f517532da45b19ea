"""The deadline of the work in progress, which every upstream call made for it respects.

Each GraphQL operation runs under a deadline (the schema's deadline extension sets it), and a
profile refresh under one of its own. It is held in a ``ContextVar``, so it reaches the
connectors without being passed through every signature, follows the work into the tasks it
starts (asyncio copies the context into a new task), and concurrent operations never see each
other's. :class:`~connectors.http.HttpClient` reads it: each attempt gets at most what is left,
no backoff or ``Retry-After`` wait that would pass it is taken, and nothing starts after it.

Work that must outlive the request that started it (a shared refresh that fills the cache)
runs in a task created with :func:`detached`, under a deadline of its own; the request waits
for it with :func:`wait_shared`, which stops at the request's deadline and leaves the task
running.

Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment on the monotonic clock by which the work should be done."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at


class DeadlinePassed(Exception):
    """The current deadline passed before the awaited work finished (see :func:`wait_shared`)."""


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "omnigate_deadline", default=None
)


def current() -> Deadline | None:
    """The deadline of the work in progress, if it has one."""
    return _current.get()


def remaining() -> float | None:
    """Seconds left before the current deadline; ``None`` when there is none."""
    deadline = _current.get()
    return None if deadline is None else deadline.remaining()


def bound(seconds: float) -> float:
    """``seconds``, or what is left of the current deadline if that is less."""
    left = remaining()
    return seconds if left is None else min(seconds, left)


@contextmanager
def within(seconds: float | None) -> Iterator[Deadline | None]:
    """Run the block under a deadline ``seconds`` from now, or under the current one if that
    comes sooner (a nested deadline can shorten the work, never extend it). ``None`` adds no
    bound of its own."""
    outer = _current.get()
    inner = outer if seconds is None else Deadline.after(seconds)
    if outer is not None and inner is not None and outer.at < inner.at:
        inner = outer
    token = _current.set(inner)
    try:
        yield inner
    finally:
        _current.reset(token)


def detached(seconds: float | None) -> contextvars.Context:
    """A copy of the current context whose deadline is ``seconds`` from now (``None``: no
    deadline), whatever the caller's: for a task that must not stop when the request that
    created it does, e.g. ``asyncio.create_task(coro, context=detached(30.0))``."""
    context = contextvars.copy_context()
    context.run(_current.set, None if seconds is None else Deadline.after(seconds))
    return context


async def wait_shared(task: asyncio.Future[_T]) -> _T:
    """The result of ``task``, waited for until the current deadline at most.

    When the deadline passes first, :class:`DeadlinePassed` is raised and ``task`` keeps
    running (others may be waiting for it, or it fills a cache). Cancelling the waiter does
    not cancel ``task`` either."""
    left = remaining()
    if left is None:
        return await asyncio.shield(task)
    done, _ = await asyncio.wait({task}, timeout=left)
    if task not in done:
        raise DeadlinePassed(f"deadline passed with the shared work still running ({left:.3g}s)")
    return task.result()
