"""An in-process publish/subscribe bus for GraphQL subscriptions and background tasks.

Webhook handling and every stock write publish what changed; subscription resolvers consume
it. Publishing never waits: each subscriber has its own bounded queue, so one slow WebSocket
client cannot hold up the publisher or the other subscribers. A subscriber whose queue
overflows is not left with a silent hole in its stream either: its queue is cleared and the
next thing it reads is :data:`RESYNC`, after which live events continue. What it missed it
re-reads (a stock query, or a new subscription resumed from its last cursor).

With several gateway replicas a topic can be *fed* from outside the process (the stock
journal's change stream, :mod:`gateway.store.mongo.stock_feed`): :meth:`EventBus.feed`
marks it, after which :meth:`EventBus.publish` on it delivers nothing (the feed will bring
the same event back, from whichever replica made it, in commit order) and the feed delivers
with :meth:`EventBus.deliver`. So producers keep calling ``publish`` whatever the topology.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

#: Default room in one subscriber's queue.
DEFAULT_QUEUE_SIZE: Final = 256


class Resync:
    """The marker a subscriber reads after its queue overflowed (or its feed lost events):
    what came before it may be incomplete; live events follow it."""

    _instance: Resync | None = None

    def __new__(cls) -> Resync:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = Resync()


#: Positions a positioned subscription remembers above its contiguous mark before it gives
#: up knowing which it saw (then it answers "not all seen", and its reader re-reads).
MAX_AHEAD: Final = 4096


class Subscription:
    """One subscriber's bounded queue. Iterate it, or ``await get()``.

    With ``accepts``, only events it accepts take room in the queue: a subscriber of two SKUs
    is not pushed into a resync by a burst of changes to other SKUs. With ``position`` (an
    event's place in a total order, such as the stock journal's ``seq``) it also remembers
    which positions it passed over, and its reader tells it (:meth:`watch_from`) which it has
    delivered, so a real gap (:meth:`seen_all_between` is false: re-read it) is told apart
    from events it simply did not want.
    """

    def __init__(
        self,
        size: int,
        *,
        accepts: Callable[[Any], bool] | None = None,
        position: Callable[[Any], int | None] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a subscriber's queue needs room for one event at least")
        self._items: deque[Any] = deque()
        self._size = size
        self._accepts = accepts
        self._position = position
        #: Every position up to this one is handled (``None`` until :meth:`watch_from`).
        self._seen: int | None = None
        self._ahead: set[int] = set()
        self._forgot = False
        self._ready = asyncio.Event()
        self._resync = False
        #: How many times this subscriber's queue overflowed (each cost it a resync).
        self.overflows = 0
        #: Events thrown away by those overflows.
        self.dropped = 0

    def offer(self, event: Any) -> bool:
        """Queue ``event`` without waiting; on a full queue, drop what is queued and owe the
        subscriber a resync marker instead. False when the subscriber does not want it."""
        if self._accepts is not None and not self._accepts(event):
            # Passed over: its position counts as handled. An accepted event's position
            # counts once its reader has delivered it (``watch_from``), so one queued out
            # of order still reads as a gap until then.
            if self._position is not None and (at := self._position(event)) is not None:
                self._saw(at)
            return False
        if len(self._items) >= self._size:
            self.dropped += len(self._items)
            self.overflows += 1
            self._items.clear()
            self._resync = True
        self._items.append(event)
        self._ready.set()
        return True

    def _saw(self, at: int) -> None:
        if self._seen is not None and at <= self._seen:
            return
        self._ahead.add(at)
        if self._seen is not None:
            while self._seen + 1 in self._ahead:
                self._seen += 1
                self._ahead.discard(self._seen)
        if len(self._ahead) > MAX_AHEAD:
            self._ahead.clear()
            self._forgot = True

    def watch_from(self, position: int) -> None:
        """Positions up to ``position`` are handled (delivered or covered by a replay)."""
        self._seen = max(position, self._seen or position)
        self._ahead = {at for at in self._ahead if at > self._seen}
        while self._seen + 1 in self._ahead:
            self._seen += 1
            self._ahead.discard(self._seen)

    def seen_all_between(self, low: int, high: int) -> bool:
        """Whether every position strictly between ``low`` and ``high`` is handled."""
        if self._forgot or self._seen is None:
            return False
        return all(at <= self._seen or at in self._ahead for at in range(low + 1, high))

    def resync(self) -> None:
        """Owe the subscriber a resync marker (its feed lost events), dropping the queue."""
        self.dropped += len(self._items)
        self._items.clear()
        self._resync = True
        self._ready.set()

    def pending(self) -> int:
        """Items waiting, the resync marker included."""
        return len(self._items) + (1 if self._resync else 0)

    def qsize(self) -> int:
        return self.pending()

    @property
    def queue(self) -> Subscription:
        """The subscription itself: it reads like the ``asyncio.Queue`` it used to expose
        (``get``, ``get_nowait``, ``qsize``, ``empty``), so callers of that keep working."""
        return self

    def empty(self) -> bool:
        return self.pending() == 0

    def get_nowait(self) -> Any:
        if self._resync:
            self._resync = False
            return RESYNC
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.popleft()

    async def get(self) -> Any:
        while self.empty():
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            yield await self.get()


class EventBus:
    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._fed: set[str] = set()
        self._joined = asyncio.Condition()
        #: Events queued for a subscriber, per topic, since start (one per subscriber that
        #: took it): what ``/metrics`` reports as delivered.
        self.delivered: Counter[str] = Counter()

    def publish(self, topic: str, event: Any) -> int:
        """Deliver ``event`` to every subscriber of ``topic``, never waiting; returns how many
        got it. On a topic an outside feed delivers (:meth:`feed`) it delivers nothing: the
        feed brings the event back."""
        if topic in self._fed:
            return 0
        return self.deliver(topic, event)

    def deliver(self, topic: str, event: Any) -> int:
        """Deliver ``event`` whether or not ``topic`` is fed: the feed's own entry point."""
        subscribers = self._subscribers.get(topic, ())
        taken = 0
        for sub in subscribers:
            taken += sub.offer(event)
        if taken:
            self.delivered[topic] += taken
        return len(subscribers)

    def resync(self, topic: str) -> None:
        """Tell every subscriber of ``topic`` that events may have been lost."""
        for sub in self._subscribers.get(topic, ()):
            sub.resync()

    def feed(self, topic: str) -> None:
        """From now on ``topic`` is delivered by an outside feed (see the module docstring)."""
        self._fed.add(topic)

    def unfeed(self, topic: str) -> None:
        self._fed.discard(topic)

    def is_fed(self, topic: str) -> bool:
        return topic in self._fed

    def topics(self) -> list[str]:
        """Topics with a subscriber now."""
        return sorted(self._subscribers)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    async def subscribers(self, topic: str, count: int) -> None:
        """Wait until ``topic`` has ``count`` subscribers or more: a test or benchmark that
        subscribes over a WebSocket knows from this when a change will reach them."""
        async with self._joined:
            await self._joined.wait_for(lambda: self.subscriber_count(topic) >= count)

    @asynccontextmanager
    async def subscribe(
        self,
        topic: str,
        *,
        queue_size: int | None = None,
        accepts: Callable[[Any], bool] | None = None,
        position: Callable[[Any], int | None] | None = None,
    ) -> AsyncIterator[Subscription]:
        sub = Subscription(queue_size or self.queue_size, accepts=accepts, position=position)
        self._subscribers[topic].add(sub)
        async with self._joined:
            self._joined.notify_all()
        try:
            yield sub
        finally:
            self._subscribers[topic].discard(sub)
            if not self._subscribers[topic]:
                del self._subscribers[topic]
