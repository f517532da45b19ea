"""``run_app``: a sandbox on a kernel-chosen loopback port, gone when the context exits."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from sandboxes.base.server import run_app


async def _hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": "world"})


async def test_serves_on_the_real_bound_port_and_stops_on_exit() -> None:
    app = web.Application()
    app.router.add_get("/hello", _hello)
    async with aiohttp.ClientSession() as http:
        async with run_app(app) as url:
            assert url.startswith("http://127.0.0.1:")
            assert not url.endswith(":0")
            async with http.get(f"{url}/hello") as response:
                assert (await response.json()) == {"hello": "world"}
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.get(f"{url}/hello"):
                pass


async def test_two_sandboxes_get_different_ports() -> None:
    async with run_app(web.Application()) as first, run_app(web.Application()) as second:
        assert first != second
