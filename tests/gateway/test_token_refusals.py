"""A credential that is presented and not accepted is refused: HTTP 401 with
``WWW-Authenticate`` and a GraphQL error body, or a refused WebSocket connection. A missing
token is still an anonymous caller."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt

from gateway.settings import DEMO_CUSTOMER_TOKEN_SECRET
from tests.gateway.test_graphql_ws import PROTOCOL, ws_query
from tests.support import codes, gql

HEALTH = "{ health { version } }"


async def post(
    http: aiohttp.ClientSession, url: str, query: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], dict[str, Any]]:
    async with http.post(f"{url}/graphql", json={"query": query}, headers=headers) as resp:
        return resp.status, dict(resp.headers), await resp.json()


async def test_unknown_token_is_401_even_for_public_fields(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, headers, body = await post(
        http, gateway_url, HEALTH, {"Authorization": "Bearer no-such-token"}
    )
    assert status == 401
    assert headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert "not recognised" in headers["WWW-Authenticate"]
    assert body["data"] is None
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "The bearer token is not recognised."
    assert body["errors"][0]["extensions"]["reason"] == "unknown_token"


async def test_malformed_authorization_headers_are_401(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    for value in ("Basic c2Y6c2Y=", "Bearer", "sf-token", "Bearer sf-token trailing"):
        status, headers, body = await post(http, gateway_url, HEALTH, {"Authorization": value})
        assert status == 401, value
        assert headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
        assert codes(body) == ["UNAUTHENTICATED"]
        assert "Bearer <token>" in body["errors"][0]["message"]


async def test_a_get_with_an_unknown_token_is_401_too(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        f"{gateway_url}/graphql",
        params={"query": HEALTH},
        headers={"Authorization": "Bearer no-such-token"},
    ) as resp:
        assert resp.status == 401
        assert codes(await resp.json()) == ["UNAUTHENTICATED"]


async def test_missing_token_stays_anonymous(gateway_url: str, http: aiohttp.ClientSession) -> None:
    status, body = await gql(http, gateway_url, HEALTH)
    assert status == 200
    assert body["data"]["health"]["version"]
    status, body = await gql(http, gateway_url, "{ viewer { role } }")
    assert status == 200
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "A bearer token is required."


async def test_bad_customer_token_beside_a_valid_storefront_token_is_401(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    now = int(time.time())
    cases = {
        "signature": jwt.encode({"sub": "c", "exp": now + 60}, "x" * 40, "HS256"),
        "expired": jwt.encode({"sub": "c", "exp": now - 600}, DEMO_CUSTOMER_TOKEN_SECRET, "HS256"),
        "`exp`": jwt.encode({"sub": "c"}, DEMO_CUSTOMER_TOKEN_SECRET, "HS256"),
        "not a JWT": "garbage",
    }
    for words, customer_token in cases.items():
        status, headers, body = await post(
            http,
            gateway_url,
            "{ viewer { role customer { id } } }",
            {"Authorization": "Bearer sf-token", "X-Customer-Token": customer_token},
        )
        assert status == 401, words
        assert codes(body) == ["UNAUTHENTICATED"]
        message = body["errors"][0]["message"]
        assert message.startswith("The customer token is not valid"), message
        assert words in message
        assert body["errors"][0]["extensions"]["reason"] == "customer_token"
        assert 'error_description="The customer token' in headers["WWW-Authenticate"]


async def test_websocket_connection_init_with_an_unknown_token_is_refused(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    url = gateway_url.replace("http://", "ws://") + "/graphql"
    for payload in (
        {"Authorization": "Bearer no-such-token"},
        {"Authorization": "Basic x"},
        {"Authorization": 42},
        {"Authorization": "Bearer sf-token", "X-Customer-Token": "garbage"},
    ):
        async with http.ws_connect(url, protocols=[PROTOCOL]) as ws:
            await ws.send_json({"type": "connection_init", "payload": payload})
            message = await ws.receive(timeout=5)
            assert message.type is aiohttp.WSMsgType.CLOSE, message
            assert ws.close_code == 4403


async def test_websocket_with_an_unknown_token_in_the_upgrade_headers_is_refused(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    url = gateway_url.replace("http://", "ws://") + "/graphql"
    async with http.ws_connect(
        url, protocols=[PROTOCOL], headers={"Authorization": "Bearer no-such-token"}
    ) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        message = await ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.CLOSE, message
        assert ws.close_code == 4403


async def test_websocket_with_a_known_token_in_the_upgrade_headers_is_that_viewer(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    url = gateway_url.replace("http://", "ws://") + "/graphql"
    async with http.ws_connect(
        url, protocols=[PROTOCOL], headers={"Authorization": "Bearer staff-token"}
    ) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { role } }"}}
        )
        message = await ws.receive_json(timeout=5)
    assert message["payload"]["data"]["viewer"]["role"] == "STAFF"


async def test_websocket_without_a_token_is_anonymous(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    message = await ws_query(http, gateway_url, HEALTH)
    assert message["payload"]["data"]["health"]["version"]
