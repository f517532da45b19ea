"""The checkpoints port: where each resumable job (the customer sync, per source) left off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class CheckpointStore(Protocol):
    async def get_checkpoint(self, name: str) -> Mapping[str, Any] | None: ...

    async def set_checkpoint(self, name: str, value: Mapping[str, Any]) -> None:
        """Replace the checkpoint ``name`` with ``value`` (JSON-like values and datetimes)."""
