"""Shared test helpers: serve an ASGI app on a real loopback socket, talk GraphQL to it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import uvicorn

from gateway.settings import Settings


def make_settings(**overrides: Any) -> Settings:
    """Settings isolated from the developer's environment and .env file. Scheduled syncs,
    the stock warmup and reconciliations are off (a pass in the background would change
    call counts under a test); a test of the scheduler turns them on."""
    base: dict[str, Any] = {
        "demo": False,
        "log_format": "text",
        "sync_interval_seconds": 0,
        "stock_warmup": False,
        "stock_reconcile_seconds": 0,
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


#: A customer-token secret long enough for production's start-up checks (tests only).
PRODUCTION_SECRET = "test-only-production-secret-0123456789abcdef"


def production_settings(**overrides: Any) -> Settings:
    """Settings that pass production's start-up checks: a secret of our own, no demo."""
    base: dict[str, Any] = {"environment": "production", "customer_token_secret": PRODUCTION_SECRET}
    base.update(overrides)
    return make_settings(**base)


def listening_socket() -> tuple[socket.socket, str]:
    """A loopback socket already listening, and its URL: a server can be started on it later,
    while others (sandboxes that deliver webhooks) already know where it will be.

    The protocol is named (``IPPROTO_TCP``), as ``getaddrinfo`` names it when uvicorn binds
    host and port itself: asyncio sets ``TCP_NODELAY`` only on sockets that say they are TCP,
    and without it a response written in two parts (headers, then body) waits ~40 ms for the
    client's delayed ACK (Nagle), which benchmarks would then measure instead of the gateway."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serve(app: Any, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1:<free port>; yields the base URL.

    The socket is bound and listening before the server starts, so a client may connect at
    once: the kernel queues the connection until uvicorn (after the lifespan) accepts it.
    """
    if sock is None:
        sock, _ = listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, ws="websockets-sansio", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def gql(
    session: aiohttp.ClientSession,
    base_url: str,
    query: str,
    *,
    token: str | None = None,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    async with session.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=all_headers,
    ) as resp:
        text = await resp.text()
        return resp.status, json.loads(text)


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


#: Where GraphiQL's page carries its settings (gateway/graphiql/page.html).
_PAGE_CONFIG = '<script type="application/json" id="omnigate-graphiql">'


def page_config(html: str) -> dict[str, Any]:
    """The settings GraphiQL's page hands its script (the example tabs)."""
    start = html.index(_PAGE_CONFIG) + len(_PAGE_CONFIG)
    config: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return config
