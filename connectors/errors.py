"""Error taxonomy of upstream calls.

Resolvers turn a failed upstream into ``null`` for its part of the answer plus a GraphQL error,
and the code they put in ``extensions.code`` comes from here. The classes are few and named
after what the caller can do about them (wait, retry later, fix credentials, report a bug),
not after the transport detail that caused them.

Messages reach API clients, so they are built from safe parts only (source, operation,
status, attempt count): never a token, a header or a response body.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.records import Source


class UpstreamError(Exception):
    """An upstream call that did not produce a usable answer."""

    code: ClassVar[str] = "UPSTREAM_ERROR"

    def __init__(
        self,
        message: str,
        *,
        source: Source | str,
        operation: str,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.operation = operation
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, source={str(self.source)!r}, "
            f"operation={self.operation!r}, status={self.status!r})"
        )


class UpstreamUnavailable(UpstreamError):
    """The upstream cannot be reached or is unhealthy (connect error, timeout, 5xx, open circuit).

    Worth retrying later; a cached answer may be served meanwhile."""

    code: ClassVar[str] = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(UpstreamError):
    """The deadline of the work this call served (a GraphQL request, a profile refresh; see
    :mod:`connectors.deadline`) passed before the upstream answered, or before a retry or a
    rate-limit wait could fit in it. The request gave up; the upstream may well be healthy."""

    code: ClassVar[str] = "UPSTREAM_TIMEOUT"


class UpstreamRateLimited(UpstreamError):
    """The upstream asked us to slow down. ``retry_after`` is its hint in seconds, if any."""

    code: ClassVar[str] = "UPSTREAM_RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        source: Source | str,
        operation: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, source=source, operation=operation, status=status)
        self.retry_after = retry_after


class UpstreamBadResponse(UpstreamError):
    """The upstream answered, but not with something we can use (malformed JSON, unexpected
    shape, a 4xx that is neither auth nor rate limiting). Retrying will not help: it points at a
    bug on one side or the other."""

    code: ClassVar[str] = "UPSTREAM_BAD_RESPONSE"


class UpstreamAuthError(UpstreamError):
    """The upstream refused our credentials (401/403): an operator must fix configuration."""

    code: ClassVar[str] = "UPSTREAM_AUTH_ERROR"
