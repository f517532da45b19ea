"""The control API every sandbox shares, under ``/_sandbox/``.

Tests and the demo drive a sandbox from outside over HTTP, the same way the gateway talks to it:
set or clear faults, read how many requests each route has seen, and (routes each vendor sandbox
registers with :func:`add_control_routes`) change records so the sandbox sends a webhook, e.g. an
in-store sale, a refund or a stock change.

Endpoints provided here:

- ``GET /_sandbox/``: the sandbox's name and every control route, for humans exploring the demo.
- ``GET /_sandbox/faults``, ``POST /_sandbox/faults`` (one fault as JSON, see
  :meth:`sandboxes.base.faults.Fault.from_json`), ``DELETE /_sandbox/faults[?route=...]``.
- ``GET /_sandbox/requests`` (counts per route), ``DELETE /_sandbox/requests`` (reset them).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandboxes.base.faults import (
    CONTROL_PREFIX,
    FAULTS,
    HANG_SECONDS,
    ErrorResponder,
    Fault,
    FaultRegistry,
    default_error_response,
    fault_middleware,
)

SANDBOX_NAME = web.AppKey("omnigate_sandbox_name", str)


def create_sandbox_app(
    name: str,
    *,
    middlewares: Iterable[Middleware] = (),
    error_response: ErrorResponder = default_error_response,
    hang_seconds: float = HANG_SECONDS,
    client_max_size: int = 1024**2,
) -> web.Application:
    """An empty sandbox: fault injection (outermost middleware) and the shared control API.

    The vendor sandbox then adds its own API routes (give them names: faults can target a
    route by name) and its record-changing control routes via :func:`add_control_routes`.
    ``error_response`` renders 429/5xx faults in the vendor's error format.
    """
    app = web.Application(
        middlewares=[fault_middleware(), *middlewares], client_max_size=client_max_size
    )
    app[FAULTS] = FaultRegistry(error_response=error_response, hang_seconds=hang_seconds)
    app[SANDBOX_NAME] = name
    app.on_shutdown.append(_release_hangs)
    add_control_routes(
        app,
        [
            web.get("/", _index),
            web.get("/faults", _list_faults),
            web.post("/faults", _set_fault),
            web.delete("/faults", _clear_faults),
            web.get("/requests", _request_counts),
            web.delete("/requests", _reset_requests),
        ],
    )
    return app


def add_control_routes(app: web.Application, routes: Iterable[web.RouteDef]) -> None:
    """Register ``routes`` under ``/_sandbox/`` (``web.post("/sale", h)`` serves
    ``POST /_sandbox/sale``). Control routes are exempt from faults by their prefix."""
    for route in routes:
        path = f"{CONTROL_PREFIX}/{route.path.lstrip('/')}"
        web.RouteDef(route.method, path, route.handler, route.kwargs).register(app.router)


async def _release_hangs(app: web.Application) -> None:
    """Let hanging requests finish before the server waits for in-flight handlers to end."""
    app[FAULTS].release_hangs()


async def _index(request: web.Request) -> web.Response:
    routes = sorted(
        {
            (route.method, route.resource.canonical)
            for route in request.app.router.routes()
            if route.resource is not None
            and route.resource.canonical.startswith(CONTROL_PREFIX)
            and route.method != "HEAD"
        },
        key=lambda item: (item[1], item[0]),
    )
    return web.json_response(
        {
            "sandbox": request.app[SANDBOX_NAME],
            "control": [{"method": method, "path": path} for method, path in routes],
        }
    )


async def _list_faults(request: web.Request) -> web.Response:
    return _faults_response(request.app[FAULTS])


async def _set_fault(request: web.Request) -> web.Response:
    try:
        data = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        return _bad_request("body must be JSON")
    if not isinstance(data, dict):
        return _bad_request("body must be a JSON object")
    try:
        fault = Fault.from_json(data)
    except ValueError as exc:
        return _bad_request(str(exc))
    registry = request.app[FAULTS]
    registry.add(fault)
    return _faults_response(registry, status=201)


async def _clear_faults(request: web.Request) -> web.Response:
    cleared = request.app[FAULTS].clear(request.query.get("route"))
    return web.json_response({"cleared": cleared})


async def _request_counts(request: web.Request) -> web.Response:
    counts = request.app[FAULTS].request_counts()
    return web.json_response({"total": sum(counts.values()), "routes": counts})


async def _reset_requests(request: web.Request) -> web.Response:
    request.app[FAULTS].reset_requests()
    return web.json_response({"total": 0, "routes": {}})


def _faults_response(registry: FaultRegistry, status: int = 200) -> web.Response:
    return web.json_response({"faults": [f.to_json() for f in registry.faults()]}, status=status)


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)
