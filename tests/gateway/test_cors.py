"""CORS: a browser page on an allowed origin may call the gateway (preflight and simple
requests, WebSocket too); other origins get no ``Access-Control-*`` grant; production allows
none unless told, the demo any."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from tests.gateway.conftest import TOKENS
from tests.support import make_settings, production_settings, serve

SHOP = "https://shop.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-customer-token",
}
HEALTH = {"query": "{ health { version } }"}


@pytest.fixture
async def shop_gateway() -> AsyncIterator[str]:
    app = create_app(make_settings(tokens=TOKENS, cors_origins=f"{SHOP}, https://other.example"))
    async with serve(app) as url:
        yield url


async def _preflight(http: aiohttp.ClientSession, url: str, origin: str) -> aiohttp.ClientResponse:
    async with http.options(f"{url}/graphql", headers={"Origin": origin, **PREFLIGHT}) as resp:
        await resp.read()
        return resp


async def test_preflight_from_an_allowed_origin(
    shop_gateway: str, http: aiohttp.ClientSession
) -> None:
    resp = await _preflight(http, shop_gateway, SHOP)
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-customer-token"} <= allowed
    assert "Access-Control-Allow-Credentials" not in resp.headers  # tokens, not cookies


async def test_simple_request_from_an_allowed_origin(
    shop_gateway: str, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{shop_gateway}/graphql", json=HEALTH, headers={"Origin": SHOP}) as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == SHOP
        assert (await r.json())["data"]["health"]["version"]


async def test_a_refused_origin_gets_no_grant(
    shop_gateway: str, http: aiohttp.ClientSession
) -> None:
    resp = await _preflight(http, shop_gateway, "https://evil.example")
    assert resp.status == 400
    assert "Access-Control-Allow-Origin" not in resp.headers
    headers = {"Origin": "https://evil.example"}
    async with http.post(f"{shop_gateway}/graphql", json=HEALTH, headers=headers) as r:
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_errors_carry_the_grant_so_the_page_can_read_them(
    shop_gateway: str, http: aiohttp.ClientSession
) -> None:
    body = b"x" * 2_000_000
    headers = {"Origin": SHOP, "Content-Type": "application/json"}
    async with http.post(f"{shop_gateway}/graphql", data=body, headers=headers) as r:
        assert r.status == 413
        assert r.headers["Access-Control-Allow-Origin"] == SHOP


async def _websocket(http: aiohttp.ClientSession, url: str, origin: str) -> Any:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    return http.ws_connect(ws_url, protocols=["graphql-transport-ws"], headers={"Origin": origin})


async def test_websocket_from_an_allowed_origin(
    shop_gateway: str, http: aiohttp.ClientSession
) -> None:
    async with await _websocket(http, shop_gateway, SHOP) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with await _websocket(http, shop_gateway, "https://evil.example"):
            pass
    assert refused.value.status == 403


async def test_production_allows_no_origin_by_default(http: aiohttp.ClientSession) -> None:
    app = create_app(production_settings())
    async with serve(app) as url:
        resp = await _preflight(http, url, SHOP)
        assert "Access-Control-Allow-Origin" not in resp.headers
        async with http.post(f"{url}/graphql", json=HEALTH, headers={"Origin": SHOP}) as r:
            assert r.status == 200
            assert "Access-Control-Allow-Origin" not in r.headers


def test_demo_allows_any_origin_and_settings_decide_otherwise() -> None:
    assert make_settings(demo=True).cors_allowed_origins == ["*"]
    assert make_settings(environment="production").cors_allowed_origins == []
    assert make_settings(demo=False).cors_allowed_origins == []
    production = make_settings(environment="production", cors_origins="https://a.example")
    assert production.cors_allowed_origins == ["https://a.example"]
    assert make_settings(demo=True, cors_origins="").cors_allowed_origins == []
