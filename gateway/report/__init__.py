"""``omnigate report``: the omnichannel figures of ``analytics`` as one HTML page with charts.

The report is a client of the gateway's own GraphQL API (:mod:`.fetch`), so it shows exactly
what internal tools are served, under the same token rules; :mod:`.render` turns the answer
into a self-contained page (inline SVG charts drawn by matplotlib, no script, nothing loaded
from elsewhere), which opens offline and can be mailed as one file."""

from gateway.report.fetch import ReportError, fetch_analytics
from gateway.report.render import render_report

__all__ = ["ReportError", "fetch_analytics", "render_report"]
