"""The demo's ``GET /report``: the report of the demo's own data in the browser.

Served in demo mode only. The report shows internal figures, and a browser link carries no
bearer token, so the page asks the gateway's own ``/graphql`` with the demo's internal token
(the demo's data is made up); a real deployment writes the file with ``omnigate report`` and
its own internal token instead."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from gateway.report.write import ReportError, build_report, parse_when

#: The token demo mode accepts for internal tools (gateway.settings.DEMO_TOKENS).
DEMO_INTERNAL_TOKEN = "demo-internal"


async def demo_report(request: Request) -> Response:
    try:
        since = parse_when(request.query_params.get("from"), "from")
        until = parse_when(request.query_params.get("to"), "to")
        locations = request.query_params.getlist("location") or None
        page = await build_report(
            str(request.url_for("graphql")),
            DEMO_INTERNAL_TOKEN,
            since=since,
            until=until,
            location_ids=locations,
        )
    except ReportError as exc:
        return PlainTextResponse(f"report: {exc}\n", status_code=400)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
