"""Traces on the demo stack, recorded by an SDK provider of the test's own (handed to the app,
so OpenTelemetry's global provider stays untouched for every other test): a cold customer 360
is one operation span with its DataLoader batches, upstream calls and store calls as
descendants in the same trace; a log line made during it carries its trace id; a caller's
``traceparent`` is the operation's parent; a refused operation's span says why."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from connectors.records import Source
from gateway.logs import JsonFormatter, TraceContext
from tests.e2e.conftest import Demo, boot

pytestmark = pytest.mark.asyncio(loop_scope="module")

CUSTOMER = """
query Customer360($id: ID!) {
  customer(id: $id) {
    id displayName emails
    identities { source id }
    stats { lifetimeValue { amount } orderCount }
    orders(first: 5) { totalCount edges { node { id channel } } }
    marketing { lastOpenedAt }
  }
}
"""


@dataclass
class Traced:
    demo: Demo
    exporter: InMemorySpanExporter

    def trace_of(self, operation: str) -> tuple[ReadableSpan, list[ReadableSpan]]:
        """The last span named ``operation`` and every finished span of its trace."""
        spans = self.exporter.get_finished_spans()
        root = [s for s in spans if s.name == operation][-1]
        assert root.context is not None
        trace_id = root.context.trace_id
        return root, [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def traced() -> AsyncIterator[Traced]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async for demo in boot(tracer_provider=provider):
        yield Traced(demo, exporter)
    provider.shutdown()


def descends_from(span: ReadableSpan, ancestor: ReadableSpan, spans: list[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    assert ancestor.context is not None
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False


@pytest.fixture
def operation_log() -> Iterator[io.StringIO]:
    """The operation log as configure_logging writes it (JSON, trace ids added)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(TraceContext())
    logger = logging.getLogger("omnigate.operations")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def cold_profile(demo: Demo) -> str:
    """A profile known to Square and Shopify, deleted from the cache: the next read builds
    it from the vendors."""
    store = demo.app.state.services.store
    for customer in demo.world.square_customers:
        key = (Source("square"), customer.id)
        found = await store.identities.get_identities([key])
        if key not in found:
            continue
        profile_id = found[key].profile_id
        sources = {
            i.source for i in (await store.identities.identities_of([profile_id]))[profile_id]
        }
        if Source("shopify") in sources:
            await store.profiles.delete_profile(profile_id)
            return profile_id
    raise AssertionError("the demo has no person known to Square and Shopify")


async def test_a_cold_360_is_one_trace_of_loaders_upstream_and_store_calls(
    traced: Traced, operation_log: io.StringIO
) -> None:
    demo = traced.demo
    profile_id = await cold_profile(demo)
    # One failed attempt at Square, retried: the span of that call says so.
    await demo.control(
        "square", "POST", "/_sandbox/faults", json={"route": "*", "mode": "503", "count": 1}
    )
    body = await demo.gql(CUSTOMER, variables={"id": profile_id})
    assert "errors" not in body, body
    await demo.app.state.services.customers.wait_idle()

    root, spans = traced.trace_of("query Customer360")
    assert root.kind is SpanKind.SERVER
    assert root.parent is None
    assert root.attributes is not None
    assert root.attributes["graphql.operation.name"] == "Customer360"
    assert root.attributes["graphql.operation.type"] == "query"
    assert root.attributes["omnigate.outcome"] == "ok"
    assert root.attributes["omnigate.role"] == "internal"
    assert root.status.status_code is not StatusCode.ERROR

    loaders = [s for s in spans if s.name.startswith("loader ")]
    assert {"loader profile_docs", "loader customers.square", "loader orders.square"} <= {
        s.name for s in loaders
    }
    for span in loaders:
        assert descends_from(span, root, spans), span.name
        assert span.attributes is not None
        assert span.attributes["omnigate.loader.batch_size"] >= 1

    upstream = [s for s in spans if s.kind is SpanKind.CLIENT and s.name.split()[0] in SOURCES]
    assert {s.attributes["omnigate.connector"] for s in upstream if s.attributes} >= {
        "shopify",
        "square",
    }
    for span in upstream:
        assert descends_from(span, root, spans), span.name
        assert span.attributes is not None
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["omnigate.upstream.outcome"] == "ok"
        assert span.attributes["omnigate.upstream.operation"]
        # Upstream calls are made by the loaders' batches, not beside them.
        assert any(descends_from(span, loader, spans) for loader in loaders), span.name
    retried = [
        s for s in upstream if s.attributes and s.attributes["omnigate.connector"] == "square"
    ]
    assert any(s.attributes and s.attributes["omnigate.upstream.retries"] == 1 for s in retried), [
        s.attributes for s in retried
    ]

    store = [s for s in spans if s.name.startswith("store ")]
    assert "store profiles.get_profiles" in {s.name for s in store}
    for span in store:
        assert span.attributes is not None
        assert span.attributes["omnigate.store.backend"] == "memory"
        assert descends_from(span, root, spans), span.name

    assert root.context is not None
    records = [json.loads(line) for line in operation_log.getvalue().splitlines()]
    mine = [r for r in records if r.get("operation") == "Customer360"]
    assert mine, records
    assert mine[-1]["trace_id"] == format(root.context.trace_id, "032x")


async def test_a_callers_traceparent_is_the_operations_parent(traced: Traced) -> None:
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    body = await traced.demo.gql(
        "query Who { viewer { role } }",
        headers={"traceparent": f"00-{trace_id}-{span_id}-01"},
    )
    assert "errors" not in body, body
    root, _ = traced.trace_of("query Who")
    assert root.context is not None
    assert root.parent is not None
    assert format(root.context.trace_id, "032x") == trace_id
    assert format(root.parent.span_id, "016x") == span_id


async def test_a_refused_operation_span_carries_its_error_code(traced: Traced) -> None:
    body = await traced.demo.gql('query Big { customerLookup(query: "a", first: 100000) { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    root, _ = traced.trace_of("query Big")
    assert root.attributes is not None
    assert root.attributes["omnigate.outcome"] == "BAD_USER_INPUT"
    assert root.attributes["omnigate.error_codes"] == ("BAD_USER_INPUT",)
    assert root.status.status_code is StatusCode.ERROR


SOURCES = {"shopify", "square", "klaviyo"}
