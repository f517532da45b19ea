"""An in-process publish/subscribe bus for GraphQL subscriptions.

Webhook handling publishes what changed (a stock level, a profile); subscription resolvers
consume it. Each subscriber gets its own bounded queue, so one slow WebSocket client cannot
hold up the others: when its queue is full the oldest event is dropped and the subscriber is
told through a ``dropped`` count. For several gateway replicas the same interface is fed by
MongoDB change streams (see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, eq=False)
class Subscription:
    queue: asyncio.Queue[Any]
    dropped: int = 0

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            yield await self.queue.get()


class EventBus:
    def __init__(self, *, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def publish(self, topic: str, event: Any) -> int:
        """Deliver ``event`` to every subscriber of ``topic``; returns how many got it."""
        subscribers = self._subscribers.get(topic, ())
        for sub in subscribers:
            if sub.queue.full():
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(event)
        return len(subscribers)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        sub = Subscription(asyncio.Queue(self._queue_size))
        self._subscribers[topic].add(sub)
        try:
            yield sub
        finally:
            self._subscribers[topic].discard(sub)
            if not self._subscribers[topic]:
                del self._subscribers[topic]
