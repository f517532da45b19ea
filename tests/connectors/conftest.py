"""A tiny upstream built with the sandbox base, served over real loopback HTTP, and helpers
that let HTTP-client tests observe timing decisions without waiting for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from aiohttp import web

from connectors.http import HttpClient, HttpConfig
from connectors.metrics import RequestCounter
from sandboxes.base.control import add_control_routes, create_sandbox_app
from sandboxes.base.faults import FAULTS, FaultRegistry
from sandboxes.base.server import run_app

TOKEN = "tiny-secret-token"
#: What ``/limited`` puts in its first ``Retry-After``: an HTTP-date, not seconds.
LIMITED_UNTIL = "Wed, 21 Oct 2026 07:28:00 GMT"

ITEMS = {"items": [{"id": "1", "name": "Mug"}, {"id": "2", "name": "Tote"}]}
TINY = web.AppKey("tiny_state", dict)


async def _items(request: web.Request) -> web.Response:
    return web.json_response(ITEMS)


async def _item(request: web.Request) -> web.Response:
    return web.json_response({"id": request.match_info["id"]})


async def _orders(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"created": body}, status=201)


async def _private(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"errors": [{"code": "UNAUTHORIZED"}]}, status=401)
    return web.json_response({"ok": True})


async def _forbidden(request: web.Request) -> web.Response:
    return web.json_response({"errors": [{"code": "FORBIDDEN"}]}, status=403)


async def _missing(request: web.Request) -> web.Response:
    return web.json_response({"errors": [{"code": "NOT_FOUND"}]}, status=404)


async def _limited(request: web.Request) -> web.Response:
    """429 with an HTTP-date ``Retry-After`` on the first call, 200 afterwards."""
    state = request.app[TINY]
    state["limited"] = state.get("limited", 0) + 1
    if state["limited"] == 1:
        return web.json_response(
            {"errors": [{"code": "RATE_LIMITED"}]},
            status=429,
            headers={"Retry-After": LIMITED_UNTIL},
        )
    return web.json_response({"ok": True})


async def _graphql(request: web.Request) -> web.Response:
    """Shopify-style throttling: ``THROTTLED`` inside an HTTP 200, on the first call only."""
    state = request.app[TINY]
    state["graphql"] = state.get("graphql", 0) + 1
    if state["graphql"] == 1:
        return web.json_response(
            {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
        )
    return web.json_response({"data": {"shop": {"name": "tiny"}}})


async def _reset_stock(request: web.Request) -> web.Response:
    request.app[TINY]["stock_resets"] = request.app[TINY].get("stock_resets", 0) + 1
    return web.json_response({"reset": True})


def tiny_app() -> web.Application:
    app = create_sandbox_app("tiny")
    app[TINY] = {}
    app.router.add_get("/items", _items, name="items")
    app.router.add_get("/items/{id}", _item)
    app.router.add_post("/orders", _orders, name="orders")
    app.router.add_get("/private", _private, name="private")
    app.router.add_get("/forbidden", _forbidden, name="forbidden")
    app.router.add_get("/missing", _missing, name="missing")
    app.router.add_get("/limited", _limited, name="limited")
    app.router.add_post("/graphql", _graphql, name="graphql")
    add_control_routes(app, [web.post("/stock/reset", _reset_stock)])
    return app


@dataclass
class Upstream:
    url: str
    app: web.Application

    @property
    def faults(self) -> FaultRegistry:
        return self.app[FAULTS]

    def seen(self, route: str) -> int:
        """Requests the server received on ``route``."""
        return self.faults.request_counts().get(route, 0)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    app = tiny_app()
    async with run_app(app) as url:
        yield Upstream(url, app)


@dataclass
class RecordingSleep:
    """Stands in for ``asyncio.sleep``: remembers each backoff and returns at once."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MakeClient = Callable[..., Awaitable[HttpClient]]


@pytest.fixture
async def make_client(upstream: Upstream) -> AsyncIterator[MakeClient]:
    """Started clients against ``upstream`` (or ``base_url``), closed after the test.

    Keyword arguments that are ``HttpConfig`` fields configure the transport; the rest go to
    ``HttpClient`` (``source``, ``counter``, ``sleep``, ``clock``, ...).
    """
    clients: list[HttpClient] = []
    config_fields = set(HttpConfig.__dataclass_fields__)

    async def make(**options: Any) -> HttpClient:
        config_options = {k: v for k, v in options.items() if k in config_fields}
        client_options = {k: v for k, v in options.items() if k not in config_fields}
        config_options.setdefault("base_url", upstream.url)
        client_options.setdefault("source", "tiny")
        client_options.setdefault("counter", RequestCounter())
        client = HttpClient(HttpConfig(**config_options), **client_options)
        await client.start()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def http_date_minus(value: str, seconds: float) -> datetime:
    """The moment ``seconds`` before an HTTP-date, to inject as the client's ``now``."""
    return parsedate_to_datetime(value) - timedelta(seconds=seconds)
