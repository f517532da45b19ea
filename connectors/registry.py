"""The set of enabled connectors, queried by capability.

Resolvers ask for "every ``CustomerSource``" and get whichever vendors are enabled; they never
name a vendor, so the design does not care which ones are configured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from typing import TypeVar

from connectors.capabilities import Connector
from connectors.records import Source

T = TypeVar("T")


class ConnectorSet:
    def __init__(self, connectors: Iterable[Connector] = ()) -> None:
        self._by_source: dict[Source, Connector] = {c.source: c for c in connectors}

    def __iter__(self) -> Iterator[Connector]:
        return iter(self._by_source.values())

    def __len__(self) -> int:
        return len(self._by_source)

    def get(self, source: Source) -> Connector | None:
        return self._by_source.get(source)

    def of(self, capability: type[T]) -> list[T]:
        """Connectors implementing a (runtime-checkable) capability protocol."""
        return [c for c in self._by_source.values() if isinstance(c, capability)]

    async def start(self) -> None:
        await asyncio.gather(*(c.start() for c in self._by_source.values()))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._by_source.values()), return_exceptions=True)
