"""The Grafana dashboard (docs/dashboards/omnigate.json) cannot drift from the code: every
PromQL expression parses, every metric it selects is served at ``/metrics`` by a running app,
and every label it filters or groups by is a label of the metrics it reads (checked on a
registry with one of each series recorded)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import promql_parser
from prometheus_client.parser import text_string_to_metric_families

from connectors.metrics import RequestCounter
from connectors.records import Source
from connectors.registry import ConnectorSet
from gateway.app import create_app
from gateway.metrics import GatewayMetrics
from resolvers.events import EventBus
from tests.support import make_settings, serve

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "dashboards" / "omnigate.json"
#: What Grafana substitutes before a query is sent.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    found = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append(expr)
    return found


def selectors(node: Any) -> Iterator[Any]:
    """Every vector selector in a parsed expression."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        yield node
    elif kind == "MatrixSelector":
        yield node.vector_selector
    elif kind == "Call":
        for arg in node.args:
            yield from selectors(arg)
    elif kind == "BinaryExpr":
        yield from selectors(node.lhs)
        yield from selectors(node.rhs)
    elif kind in {"AggregateExpr", "ParenExpr", "UnaryExpr", "SubqueryExpr"}:
        yield from selectors(node.expr)


def groupings(node: Any) -> Iterator[tuple[list[str], Any]]:
    """``(labels, the expression aggregated)`` of every ``by (...)`` in an expression."""
    kind = type(node).__name__
    if kind == "AggregateExpr":
        if node.modifier is not None and str(node.modifier).startswith("by"):
            yield list(node.modifier.labels), node.expr
        yield from groupings(node.expr)
    elif kind == "Call":
        for arg in node.args:
            yield from groupings(arg)
    elif kind == "BinaryExpr":
        yield from groupings(node.lhs)
        yield from groupings(node.rhs)
    elif kind in {"ParenExpr", "UnaryExpr", "SubqueryExpr"}:
        yield from groupings(node.expr)


def sample_names(text: str) -> set[str]:
    """The sample names a scrape can hold, from its families (a counter's ``_total``, a
    histogram's ``_bucket``/``_count``/``_sum``), whether or not a series was recorded yet."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in suffixes.get(family.type, ("",))
    }


class FakeConnector:
    source = Source("shopify")

    def circuit_state(self) -> str:
        return "closed"


def labels_of_every_series() -> dict[str, set[str]]:
    """Sample name -> its label names, on a registry that recorded one of each series."""
    counter = RequestCounter()
    counter.record("shopify", "customers", "200")
    counter.record_retry("shopify", "customers")
    counter.record_rejected("shopify", "customers")
    events = EventBus()
    events.delivered["stock"] += 1
    metrics = GatewayMetrics(
        counter,
        ConnectorSet([FakeConnector()]),  # type: ignore[list-item]
        events,
        {"hit": 1},
    )
    metrics.operation("Op", "query", 0.01, [])
    metrics.webhook("shopify", "accepted")
    metrics.hold("placed")
    metrics.ledger("redeem", "applied")
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    # A gauge read from the bus has a series only while someone subscribes.
    labels.setdefault("omnigate_subscriptions_active", {"topic"})
    return labels


def test_every_expression_parses_and_reads_omnigate_metrics() -> None:
    found = expressions()
    assert len(found) >= 15
    for expr in found:
        names = {s.name for s in selectors(promql_parser.parse(expr))}
        assert names, expr
        assert all(n.startswith("omnigate_") for n in names), expr


async def test_every_metric_of_the_dashboard_is_served_at_metrics() -> None:
    app = create_app(make_settings())
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/metrics") as resp,
    ):
        assert resp.status == 200
        served = sample_names(await resp.text())
    used = {s.name for expr in expressions() for s in selectors(promql_parser.parse(expr))}
    assert used - served == set()
    # What the dashboard promises to show is there: a renamed metric fails here.
    assert {
        "omnigate_graphql_operations_total",
        "omnigate_graphql_operation_duration_seconds_bucket",
        "omnigate_upstream_requests_total",
        "omnigate_upstream_retries_total",
        "omnigate_circuit_state",
        "omnigate_profile_cache_total",
        "omnigate_webhook_deliveries_total",
        "omnigate_subscriptions_active",
        "omnigate_subscription_events_total",
        "omnigate_pickup_holds_total",
        "omnigate_loyalty_ledger_entries_total",
    } <= used


def test_every_label_the_dashboard_filters_or_groups_by_exists() -> None:
    labels = labels_of_every_series()
    for expr in expressions():
        parsed = promql_parser.parse(expr)
        for selector in selectors(parsed):
            have = labels[selector.name]
            for matcher in selector.matchers.matchers:
                assert matcher.name in have, (expr, matcher.name)
        for grouped, inner in groupings(parsed):
            have = set().union(*(labels[s.name] for s in selectors(inner)))
            assert set(grouped) <= have, (expr, grouped)


def test_legends_name_only_grouped_labels() -> None:
    board = json.loads(DASHBOARD.read_text())
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "5m")
            grouped = {
                label for labels, _ in groupings(promql_parser.parse(expr)) for label in labels
            }
            legend = set(re.findall(r"\{\{(\w+)\}\}", target.get("legendFormat", "")))
            assert legend <= grouped, (target["expr"], legend)
