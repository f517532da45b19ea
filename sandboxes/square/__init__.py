"""A local Square (REST v2) over the demo world: the endpoints the connector reads, Square's
cursors and error bodies, fault injection (429 with ``Retry-After`` in Square's error format),
and signed webhooks driven from the control API.

``create_sandbox(world, access_token=..., signature_key=..., webhook_url=...)`` builds the
aiohttp app; serve it with :func:`sandboxes.base.run_app`. ``app[SANDBOX]`` is the
:class:`SquareSandbox` behind it (its world, webhook sender and sent events), for tests.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandboxes.base.clock import SandboxClock
from sandboxes.base.control import add_control_routes, create_sandbox_app
from sandboxes.base.faults import Fault
from sandboxes.demo.world import DemoWorld
from sandboxes.square import api, control
from sandboxes.square.api import SANDBOX
from sandboxes.square.state import SquareSandbox, error_response

__all__ = ["SANDBOX", "SquareSandbox", "create_sandbox"]

_FAULT_ERRORS = {
    429: ("RATE_LIMIT_ERROR", "RATE_LIMITED", "Too many requests. Slow down."),
    500: ("API_ERROR", "INTERNAL_SERVER_ERROR", "An internal error has occurred."),
    502: ("API_ERROR", "BAD_GATEWAY", "Bad gateway."),
    503: ("API_ERROR", "SERVICE_UNAVAILABLE", "Service unavailable."),
    504: ("API_ERROR", "GATEWAY_TIMEOUT", "Gateway timeout."),
}


def _fault_response(request: web.Request, fault: Fault, status: int) -> web.StreamResponse:
    """Injected faults answer in Square's error format."""
    category, code, detail = _FAULT_ERRORS.get(status, ("API_ERROR", "INTERNAL_SERVER_ERROR", ""))
    return error_response(status, category, code, detail or "Sandbox fault.")


def create_sandbox(
    world: DemoWorld,
    *,
    access_token: str,
    signature_key: str,
    webhook_url: str | None = None,
    notification_url: str | None = None,
    page_size_cap: int | None = None,
    sandbox_clock: SandboxClock | None = None,
    middlewares: Iterable[Middleware] = (),
) -> web.Application:
    """The Square sandbox app over a private copy of ``world``.

    ``webhook_url`` is where webhooks are delivered (the gateway's ``/webhooks/square``);
    ``notification_url`` is the URL they are signed with when it differs (the subscription's
    public URL in front of a proxy). ``page_size_cap`` makes every page at most that long,
    which Square's advisory limits allow, so tests can page through a small world.
    ``sandbox_clock`` stamps what the control API creates or changes (the demo shares one
    between its sandboxes; by default, a clock of this sandbox's own with the same rules).
    ``middlewares`` run inside fault injection (tests record exchanges with them).
    """
    sandbox = SquareSandbox(
        world,
        access_token=access_token,
        signature_key=signature_key,
        webhook_url=webhook_url,
        notification_url=notification_url,
        page_size_cap=page_size_cap,
        sandbox_clock=sandbox_clock,
    )
    app = create_sandbox_app(
        "square",
        middlewares=[*middlewares, api.square_middleware],
        error_response=_fault_response,
    )
    app[SANDBOX] = sandbox
    sandbox.sender.attach(app)
    app.router.add_routes(api.routes())
    add_control_routes(app, control.routes())
    return app
