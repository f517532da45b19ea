"""Checkpoints in memory, copied in and out (a caller mutating its dict changes nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.store.memory.copying import copy_json


class MemoryCheckpoints:
    """The :class:`~resolvers.store.CheckpointStore` of the memory store."""

    def __init__(self) -> None:
        self._checkpoints: dict[str, dict[str, Any]] = {}

    async def get_checkpoint(self, name: str) -> Mapping[str, Any] | None:
        value = self._checkpoints.get(name)
        return None if value is None else copy_json(value)

    async def set_checkpoint(self, name: str, value: Mapping[str, Any]) -> None:
        self._checkpoints[name] = copy_json(dict(value))
