"""Square's error body, mapped onto the connector error taxonomy.

Square answers every failure with ``{"errors": [{"category", "code", "detail", "field"}]}``.
The HTTP status alone already says most of it, but not all: a 200 can carry top-level
``errors`` (a bulk call that did not run), and the code (``ACCESS_TOKEN_EXPIRED`` versus
``INSUFFICIENT_SCOPES``, ``INVALID_CURSOR`` versus ``VALUE_TOO_HIGH``) is what an operator
needs to read in the log. Messages are built from category, code and field only: ``detail``
often quotes ids or emails from the request, and error messages reach API clients.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
)
from connectors.http import HttpResponse, parse_retry_after
from connectors.square.source import SOURCE

#: The operation of the call in flight, so the classifier (which only sees the response) can
#: name it in the error. Each asyncio task has its own copy, so concurrent calls do not mix.
current_operation: contextvars.ContextVar[str] = contextvars.ContextVar(
    "square_operation", default="square"
)


@dataclass(frozen=True, slots=True)
class SquareErrorDetail:
    category: str
    code: str
    field: str | None = None

    def describe(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.category}/{self.code}{where}"


def error_details(body: Any) -> list[SquareErrorDetail]:
    """The ``errors`` array of a Square body, tolerating anything that is not one."""
    if not isinstance(body, Mapping):
        return []
    raw = body.get("errors")
    if not isinstance(raw, list):
        return []
    details: list[SquareErrorDetail] = []
    for item in raw:
        if isinstance(item, Mapping):
            field = item.get("field")
            details.append(
                SquareErrorDetail(
                    category=str(item.get("category") or "UNKNOWN"),
                    code=str(item.get("code") or "UNKNOWN"),
                    field=str(field) if isinstance(field, str) else None,
                )
            )
    return details


def classify(response: HttpResponse) -> Exception | None:
    """The taxonomy error a Square response stands for, or ``None`` to let the HTTP client's
    status rules decide (success, and 5xx, whose retry policy lives there).

    - 401/403 or ``AUTHENTICATION_ERROR``: :class:`UpstreamAuthError` (fix the token/scopes).
    - 429 or ``RATE_LIMIT_ERROR``: :class:`UpstreamRateLimited`, retried after ``Retry-After``
      plus jitter by the client.
    - other 4xx, or a 200 with top-level ``errors``: :class:`UpstreamBadResponse`.
    """
    status = response.status
    if status >= 500:
        return None
    details = error_details(response.json)
    if 200 <= status < 300 and not details:
        return None
    operation = current_operation.get()
    categories = {d.category for d in details}
    summary = ", ".join(d.describe() for d in details[:3]) or f"HTTP {status}"
    message = f"square {operation}: {summary}"
    if status == 429 or "RATE_LIMIT_ERROR" in categories:
        return UpstreamRateLimited(
            message,
            source=SOURCE,
            operation=operation,
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    kind: type[UpstreamError] = UpstreamBadResponse
    if status in (401, 403) or "AUTHENTICATION_ERROR" in categories:
        kind = UpstreamAuthError
    return kind(message, source=SOURCE, operation=operation, status=status)
