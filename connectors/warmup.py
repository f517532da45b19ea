"""A connector's start-up warm-up: one background task that fills a cache early.

Connectors that resolve webhook payloads through a cache (Shopify's inventory item -> SKU,
Square's variation -> SKU) fill it when they start, so the first webhooks resolve without
a read. The warm-up must never fail start-up or shutdown: it is logged and dropped on error
(reads fill the cache anyway), cancelled on close, and awaited by whoever needs it done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("omnigate.connectors")


class Warmup:
    def __init__(self, name: str, fill: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self._fill = fill
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin the warm-up once (later calls do nothing while it runs or after it ran)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self.name} warm-up")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait(self) -> None:
        """Wait for a running warm-up to finish (without cancelling it for the caller)."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        try:
            await self._fill()
        except asyncio.CancelledError:
            raise
        except Exception:  # logged, never fatal: the cache then fills per request
            log.warning("%s: warm-up failed", self.name, exc_info=True)
