"""Per-request DataLoaders, created lazily.

A loader batches every ``load`` made in one event-loop tick into one call of its batch
function, and caches results for the life of its registry. For HTTP that life is one request.
A WebSocket context lives as long as the connection, so its registry is built with
``cache=False``: batching still works per tick, but nothing read by one operation is served to
a later one. ``batch=False`` turns batching off entirely; the benchmark uses it to show what
the loaders save.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")

BatchFn = Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]


class Loaders:
    def __init__(self, *, cache: bool = True, batch: bool = True) -> None:
        self.cache = cache
        self.batch = batch
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def get(self, key: Hashable, load_fn: BatchFn[K, V]) -> DataLoader[K, V]:
        """The registry's loader for ``key``, made from ``load_fn`` on first use."""
        loader = self._loaders.get(key)
        if loader is None:
            loader = DataLoader(
                load_fn=load_fn,
                cache=self.cache and self.batch,
                max_batch_size=None if self.batch else 1,
            )
            self._loaders[key] = loader
        return cast(DataLoader[K, V], loader)

    def clear(self) -> None:
        self._loaders.clear()
