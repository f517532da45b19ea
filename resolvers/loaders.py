"""Per-request DataLoaders, created lazily.

A loader batches every ``load`` made in one event-loop tick into one call of its batch
function, and caches results for the life of its registry. For HTTP that life is one request.
A WebSocket context lives as long as the connection, so its registry is built with
``cache=False``: batching still works per tick, but nothing read by one operation is served to
a later one. ``batch=False`` turns batching off entirely; the benchmark uses it to show what
the loaders save.

Each batch runs in a trace span (``loader <name>``, with the batch size): the batch is where
one operation's many loads become one upstream or store call, so that is what a trace should
show. The registry's ``tracer`` is the gateway's; without one, batches make no span.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from opentelemetry.trace import Tracer
from strawberry.dataloader import DataLoader

from connectors.tracing import parent_dropped

K = TypeVar("K")
V = TypeVar("V")

BatchFn = Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]


class Loaders:
    def __init__(
        self, *, cache: bool = True, batch: bool = True, tracer: Tracer | None = None
    ) -> None:
        self.cache = cache
        self.batch = batch
        self.tracer = tracer
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def get(self, key: Hashable, load_fn: BatchFn[K, V]) -> DataLoader[K, V]:
        """The registry's loader for ``key``, made from ``load_fn`` on first use."""
        loader = self._loaders.get(key)
        if loader is None:
            if self.tracer is not None:
                load_fn = _traced(self.tracer, loader_name(key), load_fn)
            loader = DataLoader(
                load_fn=load_fn,
                cache=self.cache and self.batch,
                max_batch_size=None if self.batch else 1,
            )
            self._loaders[key] = loader
        return cast(DataLoader[K, V], loader)

    def clear(self) -> None:
        self._loaders.clear()


def loader_name(key: Hashable) -> str:
    """``("customers", "shopify")`` -> ``customers.shopify``: a span name without values."""
    if isinstance(key, tuple):
        return ".".join(str(part) for part in key)
    return str(key)


def _traced(tracer: Tracer, name: str, load_fn: BatchFn[K, V]) -> BatchFn[K, V]:
    async def load(keys: list[K]) -> Sequence[V | BaseException]:
        if parent_dropped():
            return await load_fn(keys)
        with tracer.start_as_current_span(
            f"loader {name}",
            attributes={"omnigate.loader": name, "omnigate.loader.batch_size": len(keys)},
        ):
            return await load_fn(keys)

    return load
