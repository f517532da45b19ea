"""A local Shopify Admin GraphQL API over the demo world.

``create_sandbox(world, access_token=..., webhook_secret=..., webhook_url=...)`` returns an
aiohttp app serving ``POST /admin/api/{version}/graphql.json`` with the trimmed official
schema (executed by graphql-core, costed and throttled like Shopify), the shared fault and
request-count control API, and Shopify-specific control routes that change the shop and send
signed webhooks (see :mod:`sandboxes.shopify.control`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from sandboxes.base.clock import SandboxClock
from sandboxes.base.control import create_sandbox_app
from sandboxes.base.faults import Fault
from sandboxes.base.webhooks import WebhookSender, shopify_signer
from sandboxes.demo import DemoWorld
from sandboxes.shopify.api import GraphQLEndpoint
from sandboxes.shopify.bucket import Bucket
from sandboxes.shopify.control import Control, install
from sandboxes.shopify.resolvers import executable_schema
from sandboxes.shopify.state import SandboxState

SANDBOX = web.AppKey("shopify_sandbox", Control)
ENDPOINT = web.AppKey("shopify_graphql", GraphQLEndpoint)

DEFAULT_SHOP_DOMAIN = "omnigate-demo.myshopify.com"


def _error_response(request: web.Request, fault: Fault, status: int) -> web.StreamResponse:
    """Fault answers in Shopify's shapes: a 429 is a ``THROTTLED`` GraphQL error."""
    if status == 429:
        return web.json_response(
            {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]},
            status=429,
        )
    return web.json_response({"errors": "Internal Server Error"}, status=status)


def create_sandbox(
    world: DemoWorld,
    *,
    access_token: str = "shpat_sandbox_token",
    webhook_secret: str = "sandbox-webhook-secret",
    webhook_url: str | None = None,
    api_version: str = "2026-01",
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    maximum_available: float = 1000.0,
    restore_rate: float = 100.0,
    throttled_status: int = 200,
    clock: Callable[[], float] = time.monotonic,
    sandbox_clock: SandboxClock | None = None,
    copy_world: bool = True,
) -> web.Application:
    """The sandbox app. ``restore_rate``/``maximum_available`` set the cost bucket (Standard
    plan by default) and ``clock`` (monotonic seconds) drains it; ``throttled_status`` is 200
    or 429 for ``THROTTLED`` answers. ``sandbox_clock`` stamps the records the control API
    creates or changes (the demo shares one between its sandboxes; by default, a clock of
    this sandbox's own with the same rules). ``copy_world=False`` skips the private copy of
    ``world`` (only for callers that never use the record-changing control routes)."""
    app = create_sandbox_app("shopify", error_response=_error_response)
    state = SandboxState(world, sandbox_clock=sandbox_clock, copy_world=copy_world)
    bucket = Bucket(
        maximum_available=maximum_available,
        restore_rate=restore_rate,
        throttled_status=throttled_status,
        clock=clock,
    )
    endpoint = GraphQLEndpoint(
        state, bucket, executable_schema(), access_token=access_token, api_version=api_version
    )
    app.router.add_post("/admin/api/{version}/graphql.json", endpoint.handle, name="graphql")
    sender = WebhookSender(shopify_signer(webhook_secret), url=webhook_url)
    sender.attach(app)
    control = Control(state, bucket, sender, shop_domain=shop_domain, api_version=api_version)
    install(app, control)
    app[SANDBOX] = control
    app[ENDPOINT] = endpoint
    return app


__all__ = ["ENDPOINT", "SANDBOX", "create_sandbox"]
