"""What every browser test shares: Debian's chromium driven by Playwright, a page that
records what it asked for and what it logged, and the rule for a missing browser (skip, with
the reason; with ``OMNIGATE_REQUIRE_BROWSER=1``, which CI sets where chromium is, fail)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

CHROMIUM = Path("/usr/bin/chromium")
#: No sandbox (root in a container), and nothing of the browser's own calling out.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Patience for each wait on the page, not a measure of its speed.
PATIENCE_MS = 30_000


def require(reason: str | None) -> None:
    """Skip for ``reason`` (fail under ``OMNIGATE_REQUIRE_BROWSER=1``); nothing if None."""
    if reason is None:
        return
    if os.environ.get("OMNIGATE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"OMNIGATE_REQUIRE_BROWSER=1, but {reason}")
    pytest.skip(reason)


def _chromium_unavailable() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def chromium_ready() -> None:
    require(_chromium_unavailable())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(chromium_ready: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=PATIENCE_MS)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


class Watched:
    """A page, with every URL it asked for (HTTP and WebSocket) and every error it logged
    (a script that failed, a Content-Security-Policy refusal)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("websocket", lambda socket: self.urls.append(socket.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def outside_loopback(self) -> list[str]:
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme != "data" and urlsplit(url).hostname not in LOOPBACK
        ]
