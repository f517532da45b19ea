"""The shared HTTP client on the real wire: its aiohttp transport against a loopback server
with injected faults. What only a socket shows lives here (timeouts, refused connections, a
body cut off, headers, charsets and URLs as sent); the retry, ``Retry-After``, circuit and
classification rules run in-process in ``test_http_policy.py``, the pool in
``test_http_pool.py``."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.errors import (
    UpstreamBadResponse,
    UpstreamUnavailable,
)
from sandboxes.base.faults import Fault, FaultMode
from tests.connectors.conftest import (
    MakeClient,
    RecordingSleep,
    Upstream,
)


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "query": dict(request.query),
            "body": await request.json() if request.can_read_body else None,
            "path": request.path,
        }
    )


async def _latin(request: web.Request) -> web.Response:
    return web.Response(body="café".encode("latin-1"), content_type="text/plain", charset="latin-1")


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    """A server that answers with what it received (headers, query, JSON body, path)."""
    app = web.Application()
    app.router.add_route("*", "/echo/{tail:.*}", _echo)
    app.router.add_get("/latin", _latin)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


async def test_success_returns_status_json_and_counts_one_request(
    upstream: Upstream, make_client: MakeClient
) -> None:
    client = await make_client()
    response = await client.request("GET", "/items", operation="list_items")
    assert response.ok
    assert response.status == 200
    assert response.json["items"][0]["name"] == "Mug"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.elapsed > 0
    assert client.counter.count("tiny", "list_items") == 1
    assert client.counter.outcomes("tiny", "list_items") == {"200": 1}
    assert upstream.seen("items") == 1


async def test_429_with_retry_after_waits_in_real_time_then_succeeds(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_429, retry_after=1, count=1))
    client = await make_client()
    started = time.perf_counter()
    response = await client.request("GET", "/items", operation="list_items")
    elapsed = time.perf_counter() - started
    assert response.status == 200
    assert 0.9 <= elapsed < 3.0
    assert client.counter.count("tiny", "list_items") == 2
    assert client.counter.retries("tiny", "list_items") == 1
    assert client.counter.outcomes("tiny", "list_items") == {"429": 1, "200": 1}
    assert upstream.seen("items") == 2


async def test_hang_becomes_unavailable_within_the_total_timeout(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.HANG))
    client = await make_client(total_timeout=0.3, max_retries=0)
    started = time.perf_counter()
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        await client.request("GET", "/items", operation="list_items")
    elapsed = time.perf_counter() - started
    assert 0.25 <= elapsed < 1.5
    assert client.counter.outcomes("tiny", "list_items") == {"timeout": 1}
    assert client.breaker.failures == 1


async def test_a_hang_is_retried_and_the_next_attempt_succeeds(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.HANG, count=1))
    sleep = RecordingSleep()
    client = await make_client(total_timeout=0.3, max_retries=2, sleep=sleep)
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert len(sleep.delays) == 1
    assert client.counter.outcomes("tiny", "list_items") == {"timeout": 1, "200": 1}


async def test_malformed_json_is_a_bad_response_and_not_retried(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.MALFORMED))
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep)
    with pytest.raises(UpstreamBadResponse) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.code == "UPSTREAM_BAD_RESPONSE"
    assert failed.value.status == 200
    assert "trunc" not in str(failed.value)  # never echo the body
    assert sleep.delays == []
    assert upstream.seen("items") == 1
    assert client.breaker.failures == 0


async def test_malformed_body_is_fine_when_json_is_not_expected(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.MALFORMED))
    client = await make_client()
    response = await client.request("GET", "/items", operation="raw", expect_json=False)
    assert response.json is None
    assert response.text.startswith('{"data"')


async def test_connection_refused_is_unavailable_and_retried(make_client: MakeClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleep = RecordingSleep()
    client = await make_client(base_url=f"http://127.0.0.1:{port}", sleep=sleep, max_retries=1)
    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        await client.request("GET", "/items", operation="list_items")
    assert client.counter.outcomes() == {"connection_error": 2}
    assert len(sleep.delays) == 1


async def test_headers_query_body_and_absolute_urls_reach_the_wire_as_decided(
    echo: str, make_client: MakeClient
) -> None:
    client = await make_client(
        base_url=echo, default_headers={"Authorization": "Bearer t", "Accept": "text/plain"}
    )
    sent = (
        await client.request(
            "POST",
            "/echo/a",
            operation="echo",
            json={"sku": "MUG"},
            params={"email": "bo@example.com"},
            headers={"accept": "application/json"},
        )
    ).json
    assert sent["headers"]["authorization"] == "Bearer t"
    assert sent["headers"]["accept"] == "application/json"  # the call's own header wins
    assert sent["query"] == {"email": "bo@example.com"}
    assert sent["body"] == {"sku": "MUG"}
    assert sent["headers"]["content-type"] == "application/json"

    # A ``links.next`` as vendors send it: absolute, already encoded, sent as it is.
    page = await client.request("GET", f"{echo}/echo/next%2Fpage", operation="next_page")
    assert page.json["path"] == "/echo/next/page"
    with pytest.raises(ValueError, match="refusing"):
        await client.request("GET", "http://example.invalid/echo/x", operation="next_page")


async def test_the_body_is_decoded_with_the_charset_the_vendor_names(
    echo: str, make_client: MakeClient
) -> None:
    client = await make_client(base_url=echo)
    response = await client.request("GET", "/latin", operation="latin", expect_json=False)
    assert response.text == "café"
    assert response.json is None
