"""Strawberry's ASGI view, adapted: our context, token auth on HTTP and WebSocket, GraphQL
error bodies (never plain text, never a 500) for requests it cannot read, and our GraphiQL
page (gateway/graphiql)."""

from __future__ import annotations

import json
from typing import Any

from cross_web import (  # strawberry raises it for bad requests
    AsyncHTTPRequestAdapter,
    HTTPException,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from gateway.auth import CUSTOMER_TOKEN_HEADER, Authenticator, InvalidToken
from gateway.graphiql import GraphiQLPage
from gateway.persisted import PersistedQueries, PersistedQueryError
from gateway.trusted_documents import TrustedDocuments
from resolvers.context import RequestContext, Services
from resolvers.loaders import Loaders
from resolvers.viewer import ANONYMOUS, Viewer


def error_response(message: str, code: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


def unauthorized(error: InvalidToken) -> JSONResponse:
    """401 for a credential that was presented and refused (RFC 6750 ``invalid_token``)."""
    return JSONResponse(
        {
            "data": None,
            "errors": [
                {
                    "message": error.message,
                    "extensions": {"code": "UNAUTHENTICATED", "reason": error.reason},
                }
            ],
        },
        status_code=401,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{error.message}"'
        },
    )


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(
        self,
        *,
        services: Services,
        authenticator: Authenticator,
        graphiql: GraphiQLPage | None,
        trusted: TrustedDocuments | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kwargs.pop("schema"), graphql_ide="graphiql" if graphiql else None, **kwargs
        )
        self.services = services
        self.authenticator = authenticator
        self.graphiql = graphiql
        self.persisted = PersistedQueries(manifest=trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            request.state.viewer = self._viewer(request.headers)
        except InvalidToken as exc:
            await unauthorized(exc)(scope, receive, send)
            return
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = error_response(exc.reason, "BAD_REQUEST", exc.status_code)
        except PersistedQueryError as exc:
            response = error_response(exc.message, exc.code, 200)
        await response(scope, receive, send)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's parsing, after the checks it lacks: a POST body must be JSON (415
        otherwise) holding an object or a batch (strawberry calls ``.get`` on whatever it
        finds), and ``operationName`` must be a string."""
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if "application/json" not in content_type:
                raise HTTPException(415, "Send the request as application/json.")
            # JSON's type shows in its first character after whitespace (RFC 8259).
            start = (await request.get_body()).lstrip(b" \t\r\n")[:1]
            if start not in (b"{", b"["):
                raise HTTPException(400, "The request body must be a JSON object.")
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "`operationName` must be a string or null, if provided.")
        if isinstance(data, list):
            return [self.persisted.resolve(item) for item in data]
        return self.persisted.resolve(data)

    def parse_json(self, data: str | bytes) -> Any:
        """As strawberry's, saying what is wrong with the JSON (it describes the client's own
        body, nothing of the server)."""
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"Unable to parse request body as JSON: {exc.msg}.") from exc

    def decode_json(self, data: str | bytes) -> object:
        """JSON as the GraphQL-over-HTTP spec has it (UTF-8). Every failure is a
        ``JSONDecodeError``, which HTTP answers with a 400 and graphql-transport-ws by closing
        with 4400, including those that would otherwise escape as a 500: bytes that are not
        UTF-8, nesting beyond the interpreter's recursion limit, integers beyond Python's
        digit limit."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("not valid UTF-8", "", exc.start) from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None
        except ValueError as exc:  # int("9" * 5000): over sys.get_int_max_str_digits()
            raise json.JSONDecodeError("a number has too many digits", "", 0) from exc

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        if isinstance(request, WebSocket):
            # One context per connection: loaders must not cache across operations. A
            # refused header is remembered and the connection refused at connection_init.
            try:
                viewer = self._viewer(request.headers)
            except InvalidToken as exc:
                request.state.refused = exc
                viewer = ANONYMOUS
            return RequestContext(
                viewer=viewer,
                services=self.services,
                loaders=Loaders(cache=False, tracer=self.services.customers.tracer),
                request=request,
                response=response,
            )
        # Authenticated in __call__, before the request runs (a refusal is a 401 there).
        viewer = getattr(request.state, "viewer", None) or self._viewer(request.headers)
        return RequestContext(
            viewer=viewer,
            services=self.services,
            loaders=Loaders(tracer=self.services.customers.tracer),
            request=request,
            response=response,
        )

    def _viewer(self, headers: Any) -> Viewer:
        return self.authenticator.viewer(
            headers.get("authorization"), headers.get(CUSTOMER_TOKEN_HEADER)
        )

    async def on_ws_connect(self, context: RequestContext) -> dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket, so the token may come in the
        ``connection_init`` payload instead (``{"Authorization": "Bearer …"}``); the upgrade
        request's header, when there is one, wins. A refused credential, in either place,
        refuses the connection (graphql-transport-ws closes it with 4403)."""
        refused = getattr(context.request.state, "refused", None)
        if isinstance(refused, InvalidToken):
            raise ConnectionRejectionError(_rejection(refused))
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if authorization is not None and context.viewer is ANONYMOUS:
            customer = params.get("X-Customer-Token") or params.get(CUSTOMER_TOKEN_HEADER)
            try:
                if not isinstance(authorization, str):
                    raise InvalidToken(
                        "The Authorization header must be `Bearer <token>`.",
                        reason="malformed_header",
                    )
                context.viewer = self.authenticator.viewer(
                    authorization, customer if isinstance(customer, str) else None
                )
            except InvalidToken as exc:
                raise ConnectionRejectionError(_rejection(exc)) from None
        return None

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our page (gateway/graphiql), not strawberry's: it loads GraphiQL from the gateway
        rather than a CDN and opens with the examples."""
        if self.graphiql is None:  # strawberry asks only when graphql_ide is set
            raise HTTPException(404, "Not Found")
        return self.graphiql.response()


def _rejection(error: InvalidToken) -> dict[str, object]:
    return {
        "message": error.message,
        "extensions": {"code": "UNAUTHENTICATED", "reason": error.reason},
    }


__all__ = ["GraphQLView", "error_response", "unauthorized"]
