"""The metrics registry on its own: client-made operation names cannot grow a scrape without
bound, and outcomes are the first error code."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from connectors.metrics import RequestCounter
from connectors.registry import ConnectorSet
from gateway.metrics import MAX_OPERATION_NAMES, GatewayMetrics
from resolvers.events import EventBus


def operations(metrics: GatewayMetrics) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == "omnigate_graphql_operations_total":
                key = (sample.labels["operation"], sample.labels["outcome"])
                found[key] = found.get(key, 0.0) + sample.value
    return found


def test_operation_names_past_the_cap_count_as_other() -> None:
    metrics = GatewayMetrics(RequestCounter(), ConnectorSet([]), EventBus())
    for n in range(MAX_OPERATION_NAMES + 5):
        metrics.operation(f"Op{n}", "query", 0.01, [])
    metrics.operation("Op0", "query", 0.01, ["FORBIDDEN", "NOT_FOUND"])
    metrics.operation(None, "mutation", 0.01, [])
    counted = operations(metrics)
    assert counted[("other", "ok")] == 5
    assert counted[("Op0", "FORBIDDEN")] == 1
    assert counted[("(anonymous)", "ok")] == 1
    assert len({name for name, _ in counted}) == MAX_OPERATION_NAMES + 2
