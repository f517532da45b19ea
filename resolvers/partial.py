"""Errors that accompany a successful answer.

When a cached profile is served because an upstream is down, the data is there but the client
must still learn which source failed. Resolvers report such errors here; the schema's
``PartialErrors`` extension adds them to the response. A ``ContextVar`` scopes them to one
operation: every HTTP request and every WebSocket operation runs in its own task, and tasks
copy the context, so concurrent operations never see each other's errors.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PartialError:
    message: str
    code: str
    path: tuple[str | int, ...] | None = None
    extensions: tuple[tuple[str, Any], ...] = ()


_errors: ContextVar[list[PartialError] | None] = ContextVar("omnigate_partial_errors", default=None)


def begin() -> list[PartialError]:
    errors: list[PartialError] = []
    _errors.set(errors)
    return errors


def report(error: PartialError) -> None:
    errors = _errors.get()
    if errors is not None and error not in errors:
        errors.append(error)
