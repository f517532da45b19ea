"""From dates on a command line to a file: the steps ``omnigate report`` and the demo's
``/report`` page share."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from gateway.report.fetch import ReportError, fetch_analytics
from gateway.report.render import render_report

__all__ = ["DEFAULT_PERIOD", "ReportError", "build_report", "parse_when", "write_report"]

#: The report's period when no ``--from`` is given: a year shows the months' trends.
DEFAULT_PERIOD = timedelta(days=365)
#: A report asks once, and may wait for a busy gateway.
TIMEOUT = aiohttp.ClientTimeout(total=120)


def parse_when(text: str | None, name: str) -> datetime | None:
    """An ISO date or datetime (UTC when it names no zone), or ``None``."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"--{name} is not an ISO date or datetime: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def build_report(
    url: str,
    token: str,
    *,
    since: datetime | None,
    until: datetime | None,
    location_ids: list[str] | None = None,
) -> str:
    end = until or datetime.now(UTC)
    start = since or end - DEFAULT_PERIOD
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        analytics = await fetch_analytics(session, url, token, start, end, location_ids)
    return render_report(analytics, generated_at=datetime.now(UTC))


async def write_report(
    url: str,
    token: str,
    *,
    since: str | None,
    until: str | None,
    location_ids: list[str] | None,
    output: str,
) -> Path:
    page = await build_report(
        url,
        token,
        since=parse_when(since, "from"),
        until=parse_when(until, "to"),
        location_ids=location_ids,
    )
    path = Path(output)
    await asyncio.to_thread(path.write_text, page, encoding="utf-8")
    return path
