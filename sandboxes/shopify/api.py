"""``POST /admin/api/{version}/graphql.json``: Shopify's Admin GraphQL endpoint, locally.

Each request goes through the same gates as on Shopify, in the same order: the access token
(401), parsing and validation against the trimmed 2026-01 schema (errors in a 200), the
requested cost (``MAX_COST_EXCEEDED`` over 1,000), the shop's cost bucket (``THROTTLED``,
as HTTP 200 or 429), then execution with graphql-core. The actual cost is counted during
execution (objects actually returned, connections 2 each) and the difference refunded, and
every answer carries ``extensions.cost`` with the bucket's ``throttleStatus``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable
from typing import Any

from aiohttp import web
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    execute,
    get_named_type,
    is_composite_type,
    is_list_type,
    parse,
    validate,
)
from graphql.type import GraphQLNonNull

from sandboxes.base.memo import Memo
from sandboxes.shopify.bucket import Bucket
from sandboxes.shopify.cost import (
    MAX_QUERY_COST,
    QueryCostError,
    is_connection,
    requested_cost,
    variables_shape,
)
from sandboxes.shopify.state import SandboxState

log = logging.getLogger("omnigate.sandbox.shopify")

#: Parsed and validated documents (and requested costs) remembered per endpoint; bounded, as a
#: client can send any text.
_DOCUMENT_MEMO_SIZE = 256

RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


class ActualCost:
    """graphql-core middleware counting what execution really returned."""

    def __init__(self) -> None:
        self.points = 0

    def resolve(self, next_: Any, root: Any, info: Any, **args: Any) -> Any:
        value = next_(root, info, **args)
        if value is None:
            return value
        return_type = info.return_type
        named = get_named_type(return_type)
        if not is_composite_type(named):
            return value
        name = named.name
        if name == "PageInfo" or name.endswith("Edge"):
            return value
        if is_connection(named):
            self.points += 2
            return value
        inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if is_list_type(inner):
            self.points += sum(1 for v in value if v is not None)
        else:
            self.points += 1
        return value


class GraphQLEndpoint:
    def __init__(
        self,
        state: SandboxState,
        bucket: Bucket,
        schema: GraphQLSchema,
        *,
        access_token: str,
        api_version: str = "2026-01",
    ) -> None:
        self.state = state
        self.bucket = bucket
        self.schema = schema
        self.access_token = access_token
        self.api_version = api_version
        assert isinstance(schema.query_type, GraphQLObjectType)
        self._documents: Memo[str, tuple[DocumentNode | None, list[dict[str, Any]]]] = Memo(
            _DOCUMENT_MEMO_SIZE
        )
        self._costs: Memo[tuple[str, str | None, Hashable], int] = Memo(_DOCUMENT_MEMO_SIZE)

    async def handle(self, request: web.Request) -> web.Response:
        headers = {"X-Shopify-API-Version": self.api_version}
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return web.json_response({"errors": INVALID_TOKEN}, status=401, headers=headers)
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        if not isinstance(query, str) or not (variables is None or isinstance(variables, dict)):
            return web.json_response(
                {"errors": {"query": "Required parameter missing or invalid"}},
                status=400,
                headers=headers,
            )
        operation_name = payload.get("operationName") if isinstance(payload, dict) else None
        status, body = self.run(query, variables or {}, operation_name)
        extra = {}
        if status == 429:
            cost = body["extensions"]["cost"]["requestedQueryCost"]
            extra["Retry-After"] = f"{max(1.0, self.bucket.seconds_until(cost)):.0f}"
        return web.json_response(body, status=status, headers={**headers, **extra})

    def run(
        self, query: str, variables: dict[str, Any], operation_name: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        document, errors = self._checked(query)
        if document is None:
            return 200, {"errors": errors}
        try:
            cost = self._requested_cost(query, document, variables, operation_name)
        except QueryCostError as exc:
            return 200, {"errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}]}
        if cost > MAX_QUERY_COST:
            self.bucket.counts["max_cost_exceeded"] += 1
            return 200, {
                "errors": [
                    {
                        "message": (
                            f"Query cost is {cost}, which exceeds the single query max cost "
                            f"limit ({MAX_QUERY_COST})."
                        ),
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": cost,
                            "maxCost": MAX_QUERY_COST,
                            "documentation": RATE_LIMIT_DOCS,
                        },
                    }
                ],
                "extensions": self._cost(cost, None),
            }
        if not self.bucket.charge(cost):
            self.bucket.counts["throttled"] += 1
            return self.bucket.throttled_status, {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS},
                    }
                ],
                "extensions": self._cost(cost, None),
            }
        counter = ActualCost()
        result = execute(
            self.schema,
            document,
            context_value=self.state,
            variable_values=variables,
            operation_name=operation_name,
            middleware=[counter],
        )
        assert isinstance(result, ExecutionResult), "sandbox resolvers are synchronous"
        actual = min(counter.points, cost)
        self.bucket.refund(cost - actual)
        self.bucket.counts["ok"] += 1
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_format(e) for e in result.errors]
        body["extensions"] = self._cost(cost, actual)
        return 200, body

    def _requested_cost(
        self,
        query: str,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
    ) -> int:
        return self._costs.get(
            (query, operation_name, variables_shape(variables)),
            lambda: requested_cost(self.schema, document, variables, operation_name),
        )

    def _checked(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
        """The parsed and validated document, or the errors to answer with. Remembered per
        query text, as GraphQL servers do: clients send the same few documents again and
        again, and validating each one anew was most of the sandbox's time per request."""
        return self._documents.get(query, lambda: self._check(query))

    def _check(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return None, [_format(exc)]
        errors = validate(self.schema, document)
        if errors:
            return None, [_format(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]
        return document, []

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }


def _format(error: GraphQLError, code: str | None = None) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    if code is not None:
        formatted.setdefault("extensions", {})["code"] = code
    return formatted
