"""A bounded memo for values that are costly to compute and few in practice (parsed and
validated documents, requested costs).

Clients send a handful of documents in a handful of sizes, so a plain dict hits almost every
time; the bound only matters when something sends endless variety (any text can reach a
sandbox), and then the memo starts over rather than tracking recency.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[K, V] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value remembered for ``key``, computing it the first time. A ``compute`` that
        raises remembers nothing."""
        if key in self._values:
            return self._values[key]
        value = compute()
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)
