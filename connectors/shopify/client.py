"""The Admin GraphQL transport: one POST per query, paced by the shop's cost bucket.

Throttling is handled here rather than in :class:`HttpClient`'s generic retry loop, because
Shopify's rule is a deadline, not a number of attempts: a call that would succeed after
waiting for the bucket to refill must never fail, however many ``THROTTLED`` answers it takes,
and a call that cannot get its points before its deadline should fail at once instead of
sleeping uselessly. So:

* the :class:`HttpClient` ``classify`` hook turns a ``THROTTLED`` answer (HTTP 200 *or* 429,
  Shopify sends both) into :class:`ShopifyThrottled`, which ``HttpClient`` raises without
  retrying; connection errors and 5xx keep the shared retry/backoff/circuit behaviour;
* :meth:`ShopifyClient.query` costs the query (:mod:`connectors.shopify.cost`), refuses one over
  1,000 points, waits for the :class:`~connectors.shopify.throttle.CostBucket`, sends, feeds
  the answer's ``throttleStatus`` back into the bucket, and on ``THROTTLED`` waits and repeats
  until ``throttle_deadline`` seconds after the call began, or the deadline of the work the
  call serves (:mod:`connectors.deadline`) if that comes first: a wait that would pass it
  is not taken, and the call fails with :class:`UpstreamTimeout` instead.

GraphQL errors in a 200 answer become :class:`UpstreamBadResponse` (or
:class:`UpstreamAuthError` for ``ACCESS_DENIED``): the documents are fixed, so an error means
a bug or a permission problem, which retrying will not fix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLSchema, parse

from connectors import deadline as deadlines
from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from connectors.http import HttpClient, HttpResponse
from connectors.memo import Memo
from connectors.shopify.cost import MAX_QUERY_COST, QueryCostError, cost_shape, requested_cost
from connectors.shopify.source import SOURCE
from connectors.shopify.throttle import (
    CostBucket,
    CostExceedsBucket,
    ThrottleStatus,
    ThrottleTimeout,
)

log = logging.getLogger("omnigate.connectors.shopify")

Sleep = Callable[[float], Awaitable[object]]

#: Wait before retrying a ``THROTTLED`` answer that carried no throttle status (a proxy's 429).
FALLBACK_THROTTLE_WAIT = 1.0


class ShopifyThrottled(UpstreamError):
    """A ``THROTTLED`` answer. Internal: :class:`ShopifyClient` waits and retries it, and only
    raises :class:`UpstreamRateLimited` once the deadline cannot be met."""

    code = "UPSTREAM_RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int,
        cost: Mapping[str, Any] | None,
        retry_after: float | None,
    ) -> None:
        super().__init__(message, source=SOURCE, operation=operation, status=status)
        self.cost = cost
        self.retry_after = retry_after


class QueryCostExceeded(UpstreamBadResponse):
    """The query's requested cost is over Shopify's single-query limit: it was not sent.
    The connector sizes its calls to avoid this; seeing it means a sizing bug."""


def error_codes(body: object) -> list[str]:
    """``extensions.code`` of each entry of a GraphQL ``errors`` array."""
    if not isinstance(body, Mapping):
        return []
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    codes = []
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, Mapping) else None
        code = extensions.get("code") if isinstance(extensions, Mapping) else None
        codes.append(str(code) if code is not None else "")
    return codes


def classify(response: HttpResponse, operation: str = "graphql") -> Exception | None:
    """``HttpClient`` hook: spot ``THROTTLED`` in 200 and 429 answers; leave the rest to the
    shared status rules."""
    body = response.json
    throttled = response.status == 429 or (
        response.status == 200 and "THROTTLED" in error_codes(body)
    )
    if not throttled:
        return None
    cost = body.get("extensions", {}).get("cost") if isinstance(body, Mapping) else None
    retry_after = response.headers.get("Retry-After")
    try:
        retry_seconds = float(retry_after) if retry_after else None
    except ValueError:
        retry_seconds = None
    return ShopifyThrottled(
        f"shopify {operation}: throttled (HTTP {response.status})",
        operation=operation,
        status=response.status,
        cost=cost if isinstance(cost, Mapping) else None,
        retry_after=retry_seconds,
    )


#: Costs remembered per client; the connector sends a handful of documents in a few sizes.
_COST_MEMO_SIZE = 1024


@lru_cache(maxsize=64)
def _parse(document: str) -> DocumentNode:
    return parse(document, no_location=True)


class ShopifyClient:
    """Sends Admin GraphQL queries for one shop."""

    def __init__(
        self,
        http: HttpClient,
        *,
        api_version: str,
        schema: GraphQLSchema,
        bucket: CostBucket | None = None,
        throttle_deadline: float = 30.0,
        max_query_cost: int = MAX_QUERY_COST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.schema = schema
        self.bucket = bucket or CostBucket(clock=clock, sleep=sleep)
        self.throttle_deadline = throttle_deadline
        self.max_query_cost = max_query_cost
        self._clock = clock
        self._sleep = sleep
        #: Throttled answers seen (each was waited out and retried): for tests and metrics.
        self.throttled = 0
        self._costs: Memo[tuple[str, Hashable], int] = Memo(_COST_MEMO_SIZE)

    def cost(self, document: str, variables: Mapping[str, Any] | None = None) -> int:
        """The requested cost Shopify will charge for ``document`` with ``variables``.

        Remembered per document and *shape* of the variables: the cost reads only sizes
        (``first``/``last`` and list lengths), so a search string or a cursor never changes
        it, and walking the document on every call was most of a cold 360's client CPU."""
        return self._costs.get(
            (document, cost_shape(variables)),
            lambda: requested_cost(self.schema, _parse(document), variables),
        )

    async def query(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation: str,
    ) -> dict[str, Any]:
        """``data`` of the answer; raises an :class:`UpstreamError`."""
        try:
            cost = self.cost(document, variables)
        except QueryCostError as exc:
            raise UpstreamBadResponse(
                f"shopify {operation}: query cannot be costed ({exc})",
                source=SOURCE,
                operation=operation,
            ) from None
        if cost > self.max_query_cost:
            raise QueryCostExceeded(
                f"shopify {operation}: requested cost {cost} exceeds {self.max_query_cost}",
                source=SOURCE,
                operation=operation,
            )
        budget = deadlines.bound(self.throttle_deadline)
        by_request = budget < self.throttle_deadline  # the work's deadline comes first
        deadline = self._clock() + budget
        payload = {"query": document, "variables": dict(variables or {})}
        while True:
            try:
                ticket = await self.bucket.acquire(cost, deadline)
            except ThrottleTimeout as exc:
                raise self._gave_up(operation, str(exc), cost, by_request=by_request) from None
            except CostExceedsBucket as exc:
                raise self._rate_limited(operation, str(exc), cost) from None
            try:
                response = await self.http.request(
                    "POST", self.path, operation=operation, json=payload, idempotent=True
                )
            except ShopifyThrottled as throttled:
                self.throttled += 1
                status = ThrottleStatus.from_cost(throttled.cost)
                self.bucket.settle(ticket, status, throttled=True)
                await self._wait_after_throttle(
                    cost, status, throttled, deadline, operation, by_request=by_request
                )
                continue
            except BaseException:
                self.bucket.cancel(ticket)
                raise
            body = response.json
            extensions = body.get("extensions") if isinstance(body, Mapping) else None
            cost_info = extensions.get("cost") if isinstance(extensions, Mapping) else None
            actual = cost_info.get("actualQueryCost") if isinstance(cost_info, Mapping) else None
            self.bucket.settle(
                ticket,
                ThrottleStatus.from_cost(cost_info),
                actual=float(actual) if isinstance(actual, int | float) else None,
            )
            return self._data(body, operation)

    async def _wait_after_throttle(
        self,
        cost: int,
        status: ThrottleStatus | None,
        throttled: ShopifyThrottled,
        deadline: float,
        operation: str,
        *,
        by_request: bool,
    ) -> None:
        """Without a throttle status the bucket learns nothing, so honour ``Retry-After`` (or a
        second); with one, the next ``acquire`` computes the wait itself."""
        if status is not None:
            return
        wait = (
            throttled.retry_after if throttled.retry_after is not None else FALLBACK_THROTTLE_WAIT
        )
        if self._clock() + wait > deadline:
            detail = f"throttled past the deadline (Retry-After {wait:g}s)"
            raise self._gave_up(operation, detail, cost, by_request=by_request)
        await self._sleep(wait)

    def _gave_up(
        self, operation: str, detail: str, cost: float, *, by_request: bool
    ) -> UpstreamError:
        """The wait for points does not fit: rate limited when Shopify's pace is what ran out
        of time, a timeout when the work's own deadline is."""
        if not by_request:
            return self._rate_limited(operation, detail, cost)
        log.info("shopify %s gave up waiting for the cost bucket: %s", operation, detail)
        return UpstreamTimeout(
            f"shopify {operation}: deadline reached waiting for the cost bucket",
            source=SOURCE,
            operation=operation,
        )

    def _rate_limited(self, operation: str, detail: str, cost: float) -> UpstreamRateLimited:
        log.warning("shopify %s gave up waiting for the cost bucket: %s", operation, detail)
        return UpstreamRateLimited(
            f"shopify {operation}: rate limited (query cost budget exhausted)",
            source=SOURCE,
            operation=operation,
            retry_after=self.bucket.time_until(cost) or None,
        )

    def _data(self, body: object, operation: str) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise UpstreamBadResponse(
                f"shopify {operation}: answer is not a JSON object",
                source=SOURCE,
                operation=operation,
            )
        codes = error_codes(body)
        if codes:
            kind: type[UpstreamError] = (
                UpstreamAuthError if "ACCESS_DENIED" in codes else UpstreamBadResponse
            )
            shown = ", ".join(sorted({c or "GRAPHQL_ERROR" for c in codes}))
            raise kind(
                f"shopify {operation}: GraphQL errors ({shown})",
                source=SOURCE,
                operation=operation,
                status=200,
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise UpstreamBadResponse(
                f"shopify {operation}: answer has no data",
                source=SOURCE,
                operation=operation,
                status=200,
            )
        return data
