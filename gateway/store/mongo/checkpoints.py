"""Checkpoints on MongoDB (collection ``checkpoints``): one document per name, replaced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.store.mongo.base import MongoBackend, mapped


class MongoCheckpoints:
    """The :class:`~resolvers.store.CheckpointStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._backend = backend
        self._checkpoints = backend.collection("checkpoints")

    async def prepare(self) -> None:
        await self._backend.ensure_collections(self._checkpoints.name)

    @mapped
    async def get_checkpoint(self, name: str) -> Mapping[str, Any] | None:
        raw = await self._checkpoints.find_one({"_id": name})
        return None if raw is None else dict(raw.get("value") or {})

    @mapped
    async def set_checkpoint(self, name: str, value: Mapping[str, Any]) -> None:
        await self._checkpoints.replace_one({"_id": name}, {"value": dict(value)}, upsert=True)
