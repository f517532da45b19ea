"""The demo's HTML report in headless chromium: every chart is drawn at a readable size,
every figure has its table, and the page loads nothing from anywhere (no script at all)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.browser.conftest import PATIENCE_MS, Watched
from tests.e2e.conftest import Demo, boot

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.slow,
    pytest.mark.timeout(180),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(chromium_ready: None) -> AsyncIterator[Demo]:
    async for demo in boot():
        yield demo


async def test_the_report_renders_its_charts_offline(
    stack: Demo, browser: Any, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(PATIENCE_MS)
    watched = Watched(page)
    today = datetime.now(UTC).date()
    try:
        since, until = today - timedelta(days=400), today + timedelta(days=1)
        response = await page.goto(f"{stack.url}/report?from={since}&to={until}")
        assert response is not None
        assert response.status == 200, await response.text()
        sections = page.locator("section")
        count = await sections.count()
        assert count >= 1
        drawn = 0
        for i in range(count):
            section = sections.nth(i)
            if await section.locator("p.note").count():
                continue  # a figure with nothing in the period says so, without a chart
            drawn += 1
            chart = section.locator("svg").first
            box = await chart.bounding_box()
            assert box is not None
            title = await section.locator("h2").inner_text()
            assert box["width"] > 300, title
            assert box["height"] > 100, title
            assert await section.locator("table tbody tr").count() > 0, title
        assert drawn >= 1
        await page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        await context.close()
    assert watched.errors == []
    assert watched.outside_loopback() == []
    # One request: the page itself (charts inline, no stylesheet, font or script to fetch).
    assert [u for u in watched.urls if "/report" not in u] == []
