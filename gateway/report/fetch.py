"""One POST of the report's operation to a gateway, with an internal token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp

from gateway.report.query import REPORT_QUERY


class ReportError(Exception):
    """The gateway could not be asked, or refused (the message says which, with its code)."""


async def fetch_analytics(
    session: aiohttp.ClientSession,
    graphql_url: str,
    token: str,
    since: datetime | None,
    until: datetime | None,
    location_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The ``analytics`` object of the report's operation. Any GraphQL error fails the
    report: a page with a figure silently missing would mislead more than no page."""
    variables: dict[str, Any] = {
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "locationIds": location_ids,
    }
    try:
        async with session.post(
            graphql_url,
            json={"query": REPORT_QUERY, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise ReportError(f"could not ask {graphql_url}: {exc}") from exc
    if not isinstance(body, dict):
        raise ReportError(f"{graphql_url} did not answer with a GraphQL response")
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "ERROR")
        raise ReportError(f"{code}: {first.get('message', 'the gateway refused')}")
    data = body.get("data") or {}
    analytics = data.get("analytics")
    if not isinstance(analytics, dict):
        raise ReportError(f"{graphql_url} answered without analytics")
    return analytics
