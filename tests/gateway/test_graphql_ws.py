"""GraphQL over WebSocket (graphql-transport-ws): queries, and auth in connection_init."""

from __future__ import annotations

from typing import Any

import aiohttp

PROTOCOL = "graphql-transport-ws"


async def ws_query(
    http: aiohttp.ClientSession, base_url: str, query: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with http.ws_connect(url, protocols=[PROTOCOL]) as ws:
        assert ws.protocol == PROTOCOL
        await ws.send_json({"type": "connection_init", "payload": payload or {}})
        ack = await ws.receive_json(timeout=5)
        assert ack["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        message = await ws.receive_json(timeout=5)
        assert message["id"] == "1"
        if message["type"] == "next":
            complete = await ws.receive_json(timeout=5)
            assert complete == {"id": "1", "type": "complete"}
        return message


async def test_query_over_websocket(gateway_url: str, http: aiohttp.ClientSession) -> None:
    message = await ws_query(http, gateway_url, "{ health { version store { kind } } }")
    assert message["type"] == "next"
    assert message["payload"]["data"]["health"]["store"]["kind"] == "memory"


async def test_websocket_token_in_connection_init(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    anonymous = await ws_query(http, gateway_url, "{ viewer { role } }")
    assert anonymous["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    staff = await ws_query(
        http, gateway_url, "{ viewer { role } }", {"Authorization": "Bearer staff-token"}
    )
    assert staff["payload"]["data"]["viewer"]["role"] == "STAFF"


async def test_unreadable_messages_close_the_connection_as_the_protocol_says(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    url = gateway_url.replace("http://", "ws://") + "/graphql"
    for message in ("[" * 100_000 + "]" * 100_000, '{"type": ' + "9" * 5000 + "}"):
        async with http.ws_connect(url, protocols=[PROTOCOL]) as ws:
            await ws.send_str(message)
            closed = await ws.receive(timeout=5)
            assert closed.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4400
