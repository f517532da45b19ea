"""The loopback tests' tiny vendor (``conftest.tiny_app``), in-process behind a
:class:`MockTransport`: the same routes and answers, and faults scripted per route, so the HTTP
client's retry, ``Retry-After``, circuit and classification rules are tested without a socket.

Faults follow the sandboxes' rules: the most recently set one for a route decides, for every
matching request or for the next ``count`` of them; a hang lasts until :meth:`TinyVendor.clear`
(or the client's own timeout). What the real wire adds (timeouts on a socket, refused
connections, a body cut off by a proxy, the pool) stays in the loopback tests.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict

from connectors.http import HttpClient, HttpConfig
from connectors.metrics import RequestCounter
from connectors.transport import MockTransport, RawResponse, Request
from tests.connectors.conftest import ITEMS, LIMITED_UNTIL, TOKEN

BASE_URL = "http://tiny.test"


@dataclass(slots=True)
class _Fault:
    status: int | None = None
    hang: bool = False
    retry_after: float | None = None
    count: int | None = None


class TinyVendor:
    """Answers like ``conftest.tiny_app``. ``seen(route)`` counts what reached it, by the route
    names the loopback app uses (``items``, ``orders``, ...)."""

    def __init__(self) -> None:
        self._faults: dict[str, list[_Fault]] = {}
        self._seen: Counter[str] = Counter()
        self._state: Counter[str] = Counter()
        self._release = asyncio.Event()
        #: Set once a request is in the vendor's hands (a hang has begun, say).
        self.arrived = asyncio.Event()

    # --- faults -------------------------------------------------------------------------------

    def fail(
        self, route: str, status: int, *, retry_after: float | None = None, count: int | None = None
    ) -> None:
        """Answer ``status`` (429, 5xx) on ``route``, with ``Retry-After`` if given."""
        fault = _Fault(status, retry_after=retry_after, count=count)
        self._faults.setdefault(route, []).append(fault)

    def hang(self, route: str, *, count: int | None = None) -> None:
        self._faults.setdefault(route, []).append(_Fault(hang=True, count=count))

    def clear(self) -> None:
        """Remove every fault and release hanging requests."""
        self._faults.clear()
        self._release.set()
        self._release = asyncio.Event()

    def seen(self, route: str) -> int:
        return self._seen[route]

    # --- the vendor ---------------------------------------------------------------------------

    async def handle(self, request: Request) -> RawResponse:
        route, answer = self._route(request)
        self._seen[route] += 1
        self.arrived.set()
        fault = self._take(route)
        if fault is not None:
            if fault.hang:
                await self._release.wait()
                return _error(504)
            assert fault.status is not None
            if fault.retry_after is None:
                return _error(fault.status)
            return _error(fault.status, {"Retry-After": f"{fault.retry_after:g}"})
        return answer()

    def _route(self, request: Request) -> tuple[str, Callable[[], RawResponse]]:
        path, method = request.path, request.method
        if path == "/items" and method == "GET":
            return "items", lambda: RawResponse.of_json(ITEMS)
        if path.startswith("/items/") and method == "GET":
            item = path.removeprefix("/items/")
            return "/items/{id}", lambda: RawResponse.of_json({"id": item})
        if path == "/orders" and method == "POST":
            return "orders", lambda: RawResponse.of_json({"created": request.json}, status=201)
        if path == "/private":
            authorized = CIMultiDict(request.headers).get("Authorization") == f"Bearer {TOKEN}"
            return (
                "private",
                lambda: (
                    RawResponse.of_json({"ok": True})
                    if authorized
                    else RawResponse.of_json({"errors": [{"code": "UNAUTHORIZED"}]}, status=401)
                ),
            )
        if path == "/forbidden":
            return "forbidden", lambda: RawResponse.of_json(
                {"errors": [{"code": "FORBIDDEN"}]}, status=403
            )
        if path == "/limited":
            return "limited", self._limited
        if path == "/graphql" and method == "POST":
            return "graphql", self._graphql
        return "missing", lambda: RawResponse.of_json(
            {"errors": [{"code": "NOT_FOUND"}]}, status=404
        )

    def _limited(self) -> RawResponse:
        """429 with an HTTP-date ``Retry-After`` on the first call, 200 afterwards."""
        self._state["limited"] += 1
        if self._state["limited"] == 1:
            return RawResponse.of_json(
                {"errors": [{"code": "RATE_LIMITED"}]},
                status=429,
                headers={"Retry-After": LIMITED_UNTIL},
            )
        return RawResponse.of_json({"ok": True})

    def _graphql(self) -> RawResponse:
        """Shopify-style throttling: ``THROTTLED`` inside an HTTP 200, on the first call only."""
        self._state["graphql"] += 1
        if self._state["graphql"] == 1:
            return RawResponse.of_json(
                {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
            )
        return RawResponse.of_json({"data": {"shop": {"name": "tiny"}}})

    def _take(self, route: str) -> _Fault | None:
        faults = self._faults.get(route)
        if not faults:
            return None
        fault = faults[-1]
        if fault.count is not None:
            fault.count -= 1
            if fault.count <= 0:
                faults.pop()
        return fault


def _error(status: int, headers: dict[str, str] | None = None) -> RawResponse:
    """The sandboxes' vendor-neutral error body."""
    code = "RATE_LIMITED" if status == 429 else "SERVICE_UNAVAILABLE"
    return RawResponse.of_json({"errors": [{"code": code}]}, status=status, headers=headers)


def tiny_client(vendor: TinyVendor, **options: Any) -> HttpClient:
    """A client of ``vendor`` (not started). Keyword arguments that are ``HttpConfig`` fields
    configure it; the rest go to ``HttpClient`` (``source``, ``counter``, ``sleep``, ...)."""
    fields = set(HttpConfig.__dataclass_fields__)
    config = {k: v for k, v in options.items() if k in fields}
    rest = {k: v for k, v in options.items() if k not in fields}
    config.setdefault("base_url", BASE_URL)
    rest.setdefault("source", "tiny")
    rest.setdefault("counter", RequestCounter())
    rest.setdefault("transport", MockTransport(vendor.handle))
    return HttpClient(HttpConfig(**config), **rest)


MakeClient = Callable[..., Awaitable[HttpClient]]


@asynccontextmanager
async def tiny_clients(vendor: TinyVendor) -> AsyncIterator[MakeClient]:
    """Makes started clients of ``vendor`` (see :func:`tiny_client`), closed at the end."""
    clients: list[HttpClient] = []

    async def make(**options: Any) -> HttpClient:
        client = tiny_client(vendor, **options)
        await client.start()
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.close()
