"""The transport seam: what a transport hands the HTTP client, and how aiohttp's failures become
the transport's few kinds (which the client then classifies, see ``test_http_policy.py``)."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest

from connectors.errors import UpstreamUnavailable
from connectors.http import HttpClient, HttpConfig
from connectors.metrics import RequestCounter
from connectors.transport import (
    AiohttpTransport,
    ConnectionFailed,
    ConnectTimeout,
    MockTransport,
    RawResponse,
    Request,
    TransportError,
)


class _NeverAccepts(aiohttp.TCPConnector):
    """A pool whose every connection attempt runs out of ``sock_connect`` time."""

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        raise aiohttp.ConnectionTimeoutError("connect timed out")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_mock_transport_answers_plainly_or_awaited_and_keeps_what_it_was_sent() -> None:
    async def later(request: Request) -> RawResponse:
        return RawResponse.of_json({"path": request.path}, status=202)

    plain = MockTransport(lambda request: RawResponse.of_json({"ok": True}))
    awaited = MockTransport(later)
    request = Request("GET", "http://tiny.test/a/b?x=1", {"X-Token": "t"})
    with pytest.raises(RuntimeError, match=r"start\(\)"):
        await plain.send(request)
    await plain.start()
    await awaited.start()
    assert (await plain.send(request)).body == b'{"ok": true}'
    answer = await awaited.send(request)
    assert (answer.status, answer.body) == (202, b'{"path": "/a/b"}')
    assert plain.requests == [request]
    await plain.close()
    assert not plain.started


def test_a_raw_response_reads_headers_without_case_and_the_charset_from_its_type() -> None:
    response = RawResponse.of_bytes(
        "café".encode("latin-1"),
        content_type="text/plain; charset=ISO-8859-1",
        headers={"retry-after": "3"},
    )
    assert response.headers["Retry-After"] == "3"
    assert response.headers["content-type"] == "text/plain; charset=ISO-8859-1"
    assert response.charset == "iso-8859-1"
    assert RawResponse.of_json({}).charset == "utf-8"
    assert RawResponse.of_bytes(b"{}").charset is None


async def test_aiohttp_refused_connections_are_connection_failures() -> None:
    transport = AiohttpTransport(connect_timeout=1.0, max_connections=1)
    with pytest.raises(RuntimeError, match=r"start\(\)"):
        await transport.send(Request("GET", "http://127.0.0.1:9/"))
    await transport.start()
    try:
        with pytest.raises(ConnectionFailed) as refused:
            await transport.send(Request("GET", f"http://127.0.0.1:{_free_port()}/items"))
        assert refused.value.kind == "ClientConnectorError"
        assert isinstance(refused.value.__cause__, aiohttp.ClientConnectionError)
    finally:
        await transport.close()


async def test_aiohttp_requests_that_cannot_be_made_are_plain_transport_errors() -> None:
    transport = AiohttpTransport(connect_timeout=1.0, max_connections=1)
    await transport.start()
    try:
        with pytest.raises(TransportError) as invalid:
            await transport.send(Request("GET", "http:///no-host"))
        assert type(invalid.value) is TransportError
        assert invalid.value.kind == "InvalidUrlClientError"
    finally:
        await transport.close()


async def test_aiohttp_connect_timeouts_reach_the_client_as_connect_timeouts() -> None:
    """Through a session factory: the client names the timeout and counts it for the circuit."""
    built: list[tuple[int, float]] = []

    def session(max_connections: int, connect_timeout: float) -> aiohttp.ClientSession:
        built.append((max_connections, connect_timeout))
        return aiohttp.ClientSession(connector=_NeverAccepts(limit=max_connections))

    transport = AiohttpTransport(connect_timeout=0.5, max_connections=3, session_factory=session)
    await transport.start()
    try:
        with pytest.raises(ConnectTimeout):
            await transport.send(Request("GET", "http://127.0.0.1:9/"))
    finally:
        await transport.close()

    client = HttpClient(
        HttpConfig(base_url="http://127.0.0.1:9", max_retries=0, breaker_failures=1),
        source="tiny",
        counter=RequestCounter(),
        transport=AiohttpTransport(connect_timeout=0.5, max_connections=3, session_factory=session),
    )
    async with client:
        with pytest.raises(UpstreamUnavailable, match="connect timed out"):
            await client.request("GET", "/items", operation="list_items")
    assert client.counter.outcomes() == {"timeout": 1}
    assert client.circuit_state() == "open"
    assert built == [(3, 0.5), (3, 0.5)]


def test_the_client_builds_an_aiohttp_transport_from_its_config() -> None:
    client = HttpClient(
        HttpConfig(base_url="http://127.0.0.1:9", connect_timeout=0.7, max_connections=4),
        source="tiny",
    )
    assert isinstance(client.transport, AiohttpTransport)
    assert (client.transport.connect_timeout, client.transport.max_connections) == (0.7, 4)
