"""Strawberry's ASGI view, adapted: our context, token auth on HTTP and WebSocket, GraphQL
error bodies (never plain text) for bad requests, and GraphiQL opening with examples."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException  # strawberry raises it for bad requests
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.auth import CUSTOMER_TOKEN_HEADER, Authenticator
from gateway.examples import Example
from resolvers.context import RequestContext, Services
from resolvers.loaders import Loaders
from resolvers.viewer import ANONYMOUS


def error_response(message: str, code: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(
        self,
        *,
        services: Services,
        authenticator: Authenticator,
        examples: list[Example],
        graphiql: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kwargs.pop("schema"), graphql_ide="graphiql" if graphiql else None, **kwargs
        )
        self.services = services
        self.authenticator = authenticator
        self.examples = examples

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = error_response(exc.reason, "BAD_REQUEST", exc.status_code)
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        if isinstance(request, WebSocket):
            # One context per connection: loaders must not cache across operations.
            viewer = self.authenticator.viewer(
                request.headers.get("authorization"), request.headers.get(CUSTOMER_TOKEN_HEADER)
            )
            return RequestContext(
                viewer=viewer,
                services=self.services,
                loaders=Loaders(cache=False),
                request=request,
                response=response,
            )
        viewer = self.authenticator.viewer(
            request.headers.get("authorization"), request.headers.get(CUSTOMER_TOKEN_HEADER)
        )
        return RequestContext(
            viewer=viewer,
            services=self.services,
            loaders=Loaders(),
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: RequestContext) -> dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket, so the token may come in the
        ``connection_init`` payload instead (``{"Authorization": "Bearer …"}``)."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if isinstance(authorization, str) and context.viewer is ANONYMOUS:
            customer = params.get("X-Customer-Token") or params.get(CUSTOMER_TOKEN_HEADER)
            context.viewer = self.authenticator.viewer(
                authorization, customer if isinstance(customer, str) else None
            )
        return None

    async def render_graphql_ide(self, request: Request) -> Response:
        html = self.graphql_ide_html
        tabs = [
            {
                "query": ex.query,
                "headers": json.dumps({"Authorization": f"Bearer {ex.token}"}, indent=2)
                if ex.token
                else None,
                "variables": ex.variables,
            }
            for ex in self.examples
        ]
        if tabs:
            script = f"<script>window.OMNIGATE_TABS = {json.dumps(tabs)};</script>"
            html = html.replace("<body>", "<body>\n" + script, 1)
            html = html.replace(
                "inputValueDeprecation: true,",
                "defaultTabs: window.OMNIGATE_TABS, inputValueDeprecation: true,",
                1,
            )
            html = html.replace(
                "parameters.q || EXAMPLE_QUERY",
                "parameters.q || window.OMNIGATE_TABS[0].query",
                1,
            )
            html = html.replace(
                "React.useState(parameters.headers)",
                "React.useState(parameters.headers || window.OMNIGATE_TABS[0].headers)",
                1,
            )
        return HTMLResponse(html)


__all__ = ["GraphQLView", "error_response"]
