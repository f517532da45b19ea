"""GraphiQL in a real browser: Debian's chromium, driven by Playwright, against the demo stack
on loopback. The page must come whole from the gateway (no request leaves loopback), fetch the
schema, and run an example with the token typed into its headers editor; a subscription tab
must stream a stock change.

Skipped, with the reason, when chromium, the playwright package or GraphiQL's npm files are
missing; with ``OMNIGATE_REQUIRE_BROWSER=1`` (CI sets it where chromium is) that fails instead.
``OMNIGATE_UPDATE_SCREENSHOT=1`` also writes the screenshot to docs/img/graphiql.png (the
README's); otherwise it stays in the test's temporary folder, so a test run changes no file of
the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from gateway.examples import load_examples
from gateway.graphiql import ASSETS, PREFIX, GraphiQLAssets
from resolvers.stock.live import encode_cursor
from tests.browser.conftest import PATIENCE_MS, Watched, require
from tests.e2e.conftest import Demo, boot

#: The browser's start and the page's waits are patient: the whole suite may run beside them.
pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.slow,
    pytest.mark.timeout(180),
]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "graphiql.png"
#: The person the store-tablet example looks up (docs/queries/2-store-tablet.graphql).
EMAIL = "roger.morris@yahoo.com"


def _unavailable() -> str | None:
    missing = GraphiQLAssets("local").missing()
    if missing:
        return (
            "GraphiQL's npm files are not installed (npm ci --prefix web/graphiql): "
            + "; ".join(missing)
        )
    return None


@pytest.fixture(scope="module")
def browser_ready(chromium_ready: None) -> None:
    require(_unavailable())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(browser_ready: None) -> AsyncIterator[Demo]:
    async for demo in boot():
        yield demo


@pytest_asyncio.fixture(loop_scope="module")
async def graphiql(stack: Demo, browser: Any) -> AsyncIterator[Watched]:
    """GraphiQL opened in a fresh context (its own localStorage: no headers from before)."""
    context = await browser.new_context(viewport={"width": 1600, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(PATIENCE_MS)
    watched = Watched(page)
    response = await page.goto(f"{stack.url}/graphql")
    assert response is not None
    assert response.status == 200, await response.text()
    await page.locator(".graphiql-query-editor .CodeMirror").wait_for()
    try:
        yield watched
    finally:
        await context.close()


async def _set_editor(page: Any, section: str, text: str) -> None:
    """Types into the headers or variables editor as CodeMirror does for a keyboard (the
    editors close brackets themselves, so keystrokes would not give this exact text)."""
    await page.get_by_role("button", name=section, exact=True).click()
    editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    await editor.evaluate("(node, text) => node.CodeMirror.setValue(text)", text)


async def _run(page: Any) -> None:
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()


async def test_graphiql_loads_its_schema_and_runs_an_example_from_loopback_alone(
    stack: Demo, graphiql: Watched, tmp_path: Path
) -> None:
    page = graphiql.page
    from playwright.async_api import expect

    # The schema arrived: the documentation explorer lists the Query type's fields.
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await docs.get_by_text(re.compile("Root Types|Error fetching schema")).first.wait_for()
    assert "Error fetching schema" not in await docs.inner_text()
    await docs.get_by_text("Query", exact=True).click()
    await expect(docs).to_contain_text("customerLookup")

    # The store tablet's lookup: refused without a token, answered with the one typed in.
    await page.locator(".graphiql-tab").get_by_text("CounterLookup", exact=True).click()
    await _set_editor(page, "Headers", "{}")
    await _run(page)
    result = page.locator(".result-window")
    await expect(result).to_contain_text('"code": "UNAUTHENTICATED"')
    await _set_editor(page, "Headers", json.dumps({"Authorization": "Bearer demo-staff"}))
    await _run(page)
    person = next(p for p in stack.world.people if p.email and p.email.lower() == EMAIL)
    await expect(result).to_contain_text(f'"displayName": "{person.full_name}"')
    await expect(result).not_to_contain_text('"errors"')

    shot = tmp_path / "graphiql.png"
    await page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("OMNIGATE_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)

    # Offline: every file came from the gateway, and nothing else was asked for.
    assert graphiql.outside_loopback() == []
    served = {urlsplit(url).path for url in graphiql.urls}
    assert {f"{PREFIX}/{a.path}" for a in ASSETS if a.kind != "map"} <= served
    assert graphiql.errors == []


async def test_a_subscription_tab_streams_a_stock_change(stack: Demo, graphiql: Watched) -> None:
    """The "Live stock" tab, over the WebSocket, with its headers' token in connection_init."""
    page = graphiql.page
    from playwright.async_api import expect

    (example,) = [e for e in load_examples() if e.is_subscription]
    skus = json.loads(example.variables or "{}")["skus"]
    row = next(
        r
        for r in stack.world.stock
        if r.sku in skus and stack.world.locations_by_code[r.location_code].square_location_id
    )
    await page.locator(".graphiql-tab").get_by_text("LiveStock", exact=True).click()
    result = page.locator(".result-window")
    # From a cursor taken now, so that the change below arrives even if it lands before the
    # subscription has started.
    since = encode_cursor(await stack.app.state.services.store.inventory.last_seq())
    await _set_editor(page, "Variables", json.dumps({"skus": skus, "since": since}))
    await _set_editor(page, "Headers", json.dumps({"Authorization": f"Bearer {example.token}"}))
    await _run(page)
    stop = page.get_by_role("button", name="Stop query")
    await expect(stop).to_be_visible()  # running: the button stops it instead
    await stack.control(
        "square",
        "POST",
        "/_sandbox/inventory",
        json={"sku": row.sku, "location_code": row.location_code, "quantity": 4321},
    )
    await expect(result).to_contain_text('"available": 4321')
    assert any(urlsplit(url).scheme == "ws" for url in graphiql.urls)
    assert graphiql.outside_loopback() == []
    assert graphiql.errors == []

    # The token was the headers editor's: without it the gateway refuses the subscription.
    await stop.click()
    await _set_editor(page, "Headers", "{}")
    await _run(page)
    await expect(result).to_contain_text("UNAUTHENTICATED")
