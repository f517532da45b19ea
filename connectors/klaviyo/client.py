"""Klaviyo's wire protocol on top of the shared :class:`HttpClient`.

The shared client brings timeouts, retries honouring ``Retry-After``, the circuit breaker and
request counting; this layer adds what is Klaviyo's own: the JSON:API media type and ``revision``
header, per-endpoint pacing under the fixed-window rate limits, ``links.next`` pagination, and
reading Klaviyo's error documents (``{"errors": [{"id", "code", "title", "detail"}]}``) into the
error taxonomy. Only Klaviyo's error *codes* (``invalid``, ``not_found``, ``throttled``) go into
messages: titles and details can quote the email a request was about.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp.typedefs import Query

from connectors import deadline
from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamTimeout,
)
from connectors.http import HttpClient, HttpResponse
from connectors.klaviyo.mapping import MappingError, next_link
from connectors.klaviyo.ratelimit import Pacers
from connectors.klaviyo.source import SOURCE

log = logging.getLogger("omnigate.connectors.klaviyo")

MEDIA_TYPE = "application/vnd.api+json"


def auth_headers(api_key: str, revision: str) -> dict[str, str]:
    """Headers every Klaviyo call carries (set once as the session's default headers)."""
    return {
        "Authorization": f"Klaviyo-API-Key {api_key}",
        "revision": revision,
        "Accept": MEDIA_TYPE,
    }


def error_codes(response: HttpResponse) -> list[str]:
    """The ``code`` of each error in a Klaviyo error document (empty when there is none)."""
    body = response.json
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list):
        return []
    return [str(e["code"]) for e in errors if isinstance(e, Mapping) and "code" in e]


def classify(response: HttpResponse) -> Exception | None:
    """Name Klaviyo's error code in 4xx errors. Rate limits (429) and 5xx are left to the shared
    rules, which already retry them and read ``Retry-After``."""
    status = response.status
    if status < 400 or status >= 500 or status == 429:
        return None
    codes = error_codes(response)
    suffix = f" ({', '.join(codes)})" if codes else ""
    kind: type[UpstreamError] = UpstreamAuthError if status in (401, 403) else UpstreamBadResponse
    return kind(f"klaviyo: HTTP {status}{suffix}", source=SOURCE, operation="", status=status)


class KlaviyoClient:
    """Paced, JSON:API-aware calls. One instance per connector."""

    def __init__(self, http: HttpClient, *, pacers: Pacers | None = None) -> None:
        self.http = http
        self.pacers = pacers or Pacers()

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Query = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> HttpResponse:
        """One call, waiting for a slot in the operation's rate-limit windows first, for as
        long as the work's deadline allows (:mod:`connectors.deadline`)."""
        headers = {"Content-Type": MEDIA_TYPE} if body is not None else None
        pacer = self.pacers.for_operation(operation)
        try:
            async with asyncio.timeout(deadline.remaining()):
                await pacer.acquire()
        except TimeoutError:
            raise UpstreamTimeout(
                f"klaviyo {operation}: deadline passed waiting for a rate-limit slot",
                source=SOURCE,
                operation=operation,
            ) from None
        try:
            return await self.http.request(
                method,
                path,
                operation=operation,
                params=params,
                json=body,
                headers=headers,
                idempotent=idempotent,
            )
        except UpstreamError as exc:
            # ``classify`` cannot know the operation; fill it in for logs and callers.
            if not exc.operation:
                exc.operation = operation
                exc.message = exc.message.replace("klaviyo:", f"klaviyo {operation}:", 1)
                exc.args = (exc.message,)
            raise
        finally:
            await pacer.release()

    async def get(self, path: str, *, operation: str, params: Query = None) -> Mapping[str, Any]:
        response = await self.call("GET", path, operation=operation, params=params)
        return self.document(response, operation)

    async def pages(
        self,
        path: str,
        *,
        operation: str,
        params: Query = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Each page of a collection, following ``links.next`` (an absolute URL that already
        carries the filter and cursor, so it is requested as is)."""
        document = await self.get(path, operation=operation, params=params)
        pages = 1
        yield document
        link = next_link(document)
        while link is not None and (max_pages is None or pages < max_pages):
            document = await self.get(link, operation=operation)
            pages += 1
            yield document
            link = next_link(document)

    @staticmethod
    def document(response: HttpResponse, operation: str) -> Mapping[str, Any]:
        body = response.json
        if not isinstance(body, Mapping):
            raise UpstreamBadResponse(
                f"klaviyo {operation}: expected a JSON:API document",
                source=SOURCE,
                operation=operation,
                status=response.status,
            )
        return body


def bad_document(operation: str, error: MappingError) -> UpstreamBadResponse:
    """A document we could not map, as the error the resolvers understand."""
    log.warning("klaviyo %s: unexpected document shape: %s", operation, error)
    return UpstreamBadResponse(
        f"klaviyo {operation}: unexpected document shape",
        source=SOURCE,
        operation=operation,
    )
