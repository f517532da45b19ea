"""Errors a client is meant to see. Each carries the ``extensions.code`` it is reported with;
anything else that escapes a resolver is masked by the schema's error policy."""

from __future__ import annotations

from typing import Any


class OmnigateError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(
        self, message: str, *, code: str | None = None, extensions: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extensions: dict[str, Any] = dict(extensions or {})


class BadUserInput(OmnigateError):
    code = "BAD_USER_INPUT"


class NotFound(OmnigateError):
    code = "NOT_FOUND"


class Unauthenticated(OmnigateError):
    code = "UNAUTHENTICATED"


class Forbidden(OmnigateError):
    code = "FORBIDDEN"


class DeadlineExceeded(OmnigateError):
    """The request's deadline passed while the upstream work behind a field was still running.
    That work may go on (a profile build still fills the cache), so asking again shortly is
    likely to succeed."""

    code = "UPSTREAM_TIMEOUT"


def check_page_size(first: int, maximum: int) -> int:
    """Every list argument goes through here, so ``first`` is capped in one place."""
    if first < 0:
        raise BadUserInput("`first` must not be negative", extensions={"argument": "first"})
    if first > maximum:
        raise BadUserInput(
            f"`first` may not exceed {maximum}", extensions={"argument": "first", "max": maximum}
        )
    return first
