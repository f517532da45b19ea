"""Run a sandbox app on a loopback port inside the current event loop.

The demo and the end-to-end tests run the sandboxes and the gateway in one process and one
loop, so there is nothing to orchestrate and nothing left running after Ctrl-C or a failed test.
Port 0 lets the kernel pick a free port; the real bound URL is what the context yields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


@asynccontextmanager
async def run_app(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    shutdown_timeout: float = 1.0,
    access_log: bool = False,
) -> AsyncIterator[str]:
    """Serve ``app`` until the context exits; yields its base URL, e.g. ``http://127.0.0.1:41234``.

    Handlers are cancelled when their client disconnects (a client that timed out on a hang
    fault leaves nothing behind), and shutdown waits at most ``shutdown_timeout`` for the rest.
    The access log is off by default: request lines carry emails and phones in query strings.
    """
    options: dict[str, Any] = {}
    if not access_log:
        options["access_log"] = None
    runner = web.AppRunner(
        app, handler_cancellation=True, shutdown_timeout=shutdown_timeout, **options
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        if ":" in bound_host:
            bound_host = f"[{bound_host}]"
        yield f"http://{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()
