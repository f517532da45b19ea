"""Copies for what the memory store hands in and out, so nothing internal escapes."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any


def copy_json(value: Any) -> Any:
    """A deep copy specialised for the JSON-shaped documents the store holds (dicts, lists,
    scalars): several times faster than :func:`copy.deepcopy`, which matters when the demo
    loads and serves tens of thousands of profiles. Anything else falls back to deepcopy."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool | datetime):
        return value  # immutable
    return copy.deepcopy(value)
