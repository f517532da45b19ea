"""The sandbox control API over real HTTP: faults, their expiry, request counts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sandboxes.base.control import create_sandbox_app
from sandboxes.base.faults import FAULTS, Fault, FaultMode, FaultRegistry
from sandboxes.base.server import run_app
from tests.connectors.conftest import TINY, Upstream


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _set_fault(http: aiohttp.ClientSession, base: str, **fault: Any) -> dict[str, Any]:
    async with http.post(f"{base}/_sandbox/faults", json=fault) as response:
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def _status(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as response:
        await response.read()
        return response.status


async def test_index_lists_shared_and_vendor_control_routes(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{upstream.url}/_sandbox/") as response:
        body = await response.json()
    assert body["sandbox"] == "tiny"
    routes = {(r["method"], r["path"]) for r in body["control"]}
    assert {
        ("GET", "/_sandbox/faults"),
        ("POST", "/_sandbox/faults"),
        ("DELETE", "/_sandbox/faults"),
        ("GET", "/_sandbox/requests"),
        ("POST", "/_sandbox/stock/reset"),
    } <= routes
    assert not any(path.startswith("/items") for _, path in routes)


async def test_set_list_and_clear_a_fault(upstream: Upstream, http: aiohttp.ClientSession) -> None:
    body = await _set_fault(http, upstream.url, route="items", mode="503")
    assert body["faults"] == [
        {"route": "items", "mode": "503", "latency_ms": 0.0, "retry_after": None, "count": None}
    ]
    assert await _status(http, f"{upstream.url}/items") == 503
    assert await _status(http, f"{upstream.url}/items") == 503
    assert await _status(http, f"{upstream.url}/items/1") == 200  # another route

    async with http.get(f"{upstream.url}/_sandbox/faults") as response:
        assert len((await response.json())["faults"]) == 1
    async with http.delete(f"{upstream.url}/_sandbox/faults") as response:
        assert (await response.json()) == {"cleared": 1}
    assert await _status(http, f"{upstream.url}/items") == 200
    assert upstream.faults.faults() == []


async def test_clear_one_route_keeps_the_others(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="items", mode="500")
    await _set_fault(http, upstream.url, route="orders", mode="502")
    async with http.delete(f"{upstream.url}/_sandbox/faults", params={"route": "items"}) as r:
        assert (await r.json()) == {"cleared": 1}
    assert [f.route for f in upstream.faults.faults()] == ["orders"]


async def test_a_counted_fault_expires_after_count_requests(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="items", mode="429", retry_after=2, count=2)
    for _ in range(2):
        async with http.get(f"{upstream.url}/items") as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "2"
            assert (await response.json())["errors"][0]["code"] == "RATE_LIMITED"
    assert await _status(http, f"{upstream.url}/items") == 200
    async with http.get(f"{upstream.url}/_sandbox/faults") as response:
        assert (await response.json()) == {"faults": []}


async def test_path_globs_and_star_match(upstream: Upstream, http: aiohttp.ClientSession) -> None:
    await _set_fault(http, upstream.url, route="/items/*", mode="500", count=1)
    assert await _status(http, f"{upstream.url}/items") == 200
    assert await _status(http, f"{upstream.url}/items/7") == 500
    await _set_fault(http, upstream.url, route="*", mode="502", count=2)
    assert await _status(http, f"{upstream.url}/items/7") == 502
    assert await _status(http, f"{upstream.url}/missing") == 502
    assert await _status(http, f"{upstream.url}/missing") == 404


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"route": "items", "mode": "418"}, "mode must be one of"),
        ({"route": "items", "mode": "latency"}, "latency_ms > 0"),
        ({"route": "items", "mode": "500", "count": 0}, "count"),
        ({"route": "items", "mode": "429", "retry_after": "soon"}, "retry_after"),
        ({"route": "items", "mode": "429", "retryAfter": 1}, "unknown fields: retryAfter"),
        ({"route": "", "mode": "500"}, "route"),
        (["not", "an", "object"], "JSON object"),
    ],
)
async def test_invalid_faults_are_refused_with_a_reason(
    upstream: Upstream, http: aiohttp.ClientSession, payload: Any, message: str
) -> None:
    async with http.post(f"{upstream.url}/_sandbox/faults", json=payload) as response:
        assert response.status == 400
        assert message in (await response.json())["error"]
    assert upstream.faults.faults() == []


async def test_non_json_fault_body_is_refused(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{upstream.url}/_sandbox/faults", data=b"{mode:") as response:
        assert response.status == 400


async def test_control_routes_are_never_faulted_nor_counted(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="*", mode="hang")
    async with http.get(f"{upstream.url}/_sandbox/faults") as response:
        assert response.status == 200
    async with http.post(f"{upstream.url}/_sandbox/stock/reset") as response:
        assert (await response.json()) == {"reset": True}
    assert upstream.app[TINY]["stock_resets"] == 1
    async with http.get(f"{upstream.url}/_sandbox/requests") as response:
        assert (await response.json()) == {"total": 0, "routes": {}}


async def test_request_counts_per_route_and_reset(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="items", mode="503", count=1)
    for path in ("/items", "/items", "/items/1", "/items/2", "/nowhere"):
        await _status(http, f"{upstream.url}{path}")
    async with http.post(f"{upstream.url}/orders", json={"sku": "MUG"}) as response:
        assert response.status == 201
    async with http.get(f"{upstream.url}/_sandbox/requests") as response:
        counts = await response.json()
    assert counts == {
        "total": 6,
        "routes": {"items": 2, "/items/{id}": 2, "/nowhere": 1, "orders": 1},
    }
    async with http.delete(f"{upstream.url}/_sandbox/requests") as response:
        assert response.status == 200
    assert upstream.faults.request_counts() == {}


async def test_latency_adds_up_and_then_serves_normally(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="items", mode="latency", latency_ms=150, count=1)
    started = time.perf_counter()
    async with http.get(f"{upstream.url}/items") as response:
        assert response.status == 200
        assert (await response.json())["items"]
    assert time.perf_counter() - started >= 0.14
    assert upstream.faults.faults() == []


async def test_latency_combines_with_an_error_fault(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="*", mode="latency", latency_ms=100)
    await _set_fault(http, upstream.url, route="items", mode="503", count=1)
    started = time.perf_counter()
    assert await _status(http, f"{upstream.url}/items") == 503
    assert time.perf_counter() - started >= 0.09
    assert [f.mode for f in upstream.faults.faults()] == ["latency"]


async def test_malformed_answers_200_with_a_body_that_does_not_parse(
    upstream: Upstream, http: aiohttp.ClientSession
) -> None:
    await _set_fault(http, upstream.url, route="items", mode="malformed", count=1)
    async with http.get(f"{upstream.url}/items") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        text = await response.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_vendor_error_format_and_retry_after_header() -> None:
    def square_error(request: web.Request, fault: Fault, status: int) -> web.StreamResponse:
        return web.json_response(
            {"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED"}]},
            status=status,
        )

    app = create_sandbox_app("square-ish", error_response=square_error)
    app[FAULTS].add(Fault.from_json({"route": "*", "mode": "429", "retry_after": 0.5}))
    async with (
        run_app(app) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/v2/customers") as response,
    ):
        assert response.status == 429
        assert response.headers["Retry-After"] == "0.5"
        body = await response.json()
    assert body["errors"][0]["category"] == "RATE_LIMIT_ERROR"


async def _fast(request: web.Request) -> web.Response:
    return web.json_response({})


class _SignallingRegistry(FaultRegistry):
    """Tells the test when a request has started hanging, so it awaits instead of polling."""

    def __init__(self) -> None:
        super().__init__()
        self.hanging = asyncio.Event()

    async def hang(self) -> None:
        self.hanging.set()
        await super().hang()


async def test_clearing_faults_releases_a_hanging_request() -> None:
    app = create_sandbox_app("hangs")
    app.router.add_get("/slow", _fast, name="slow")
    registry = app[FAULTS] = _SignallingRegistry()
    registry.add(Fault("slow", FaultMode.HANG))
    async with run_app(app) as url, aiohttp.ClientSession() as http:
        pending = asyncio.create_task(_status(http, f"{url}/slow"))
        await asyncio.wait_for(registry.hanging.wait(), 5)
        async with http.delete(f"{url}/_sandbox/faults") as response:
            assert response.status == 200
        assert await asyncio.wait_for(pending, 5) == 504


async def test_stopping_the_server_releases_hanging_requests_promptly() -> None:
    app = create_sandbox_app("hangs")
    app.router.add_get("/slow", _fast, name="slow")
    registry = app[FAULTS] = _SignallingRegistry()
    registry.add(Fault.from_json({"route": "slow", "mode": "hang"}))
    async with aiohttp.ClientSession() as http:
        async with run_app(app) as url:
            pending = asyncio.create_task(_status(http, f"{url}/slow"))
            await asyncio.wait_for(registry.hanging.wait(), 5)
            started = time.perf_counter()
        assert time.perf_counter() - started < 1.0
        assert await asyncio.wait_for(pending, 5) == 504
