"""Each logical upstream call is one span on the tracer its config names: connector,
operation, method, the last status, attempts, retries and outcome; never the path or body;
and none in a trace the sampler dropped."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags

from connectors.errors import UpstreamUnavailable
from connectors.http import HttpClient, HttpConfig
from connectors.transport import MockTransport, RawResponse, Request


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def config(exporter: InMemorySpanExporter | None, **more: object) -> HttpConfig:
    tracer = None
    if exporter is not None:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("test")
    return HttpConfig(base_url="http://tiny.test", backoff_base=0, tracer=tracer, **more)  # type: ignore[arg-type]


def flaky(statuses: list[int]) -> MockTransport:
    def answer(request: Request) -> RawResponse:
        return RawResponse.of_json({"ok": True}, status=statuses.pop(0))

    return MockTransport(answer)


async def nap(seconds: float) -> None:
    return None


async def test_a_retried_call_is_one_span_with_its_attempts(exporter: InMemorySpanExporter) -> None:
    async with HttpClient(
        config(exporter), source="tiny", transport=flaky([503, 200]), sleep=nap
    ) as client:
        await client.request("GET", "/people/ada@example.com", operation="people.get")
    [span] = exporter.get_finished_spans()
    assert span.name == "tiny people.get"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "omnigate.connector": "tiny",
        "omnigate.upstream.operation": "people.get",
        "http.request.method": "GET",
        "omnigate.upstream.attempts": 2,
        "omnigate.upstream.retries": 1,
        "http.response.status_code": 200,
        "omnigate.upstream.outcome": "ok",
    }
    assert span.status.status_code is not StatusCode.ERROR


async def test_a_failed_call_says_why_and_a_refused_one_made_no_attempt(
    exporter: InMemorySpanExporter,
) -> None:
    async with HttpClient(
        config(exporter, max_retries=0, breaker_failures=1),
        source="tiny",
        transport=flaky([503]),
        sleep=nap,
    ) as client:
        for _ in range(2):  # the first opens the circuit; the second is refused unsent
            with pytest.raises(UpstreamUnavailable):
                await client.request("GET", "/people", operation="people.list")
    failed, refused = exporter.get_finished_spans()
    for span in (failed, refused):
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes is not None
        assert span.attributes["omnigate.upstream.outcome"] == "UPSTREAM_UNAVAILABLE"
        assert span.attributes["error.type"] == "UpstreamUnavailable"
    assert failed.attributes is not None
    assert failed.attributes["http.response.status_code"] == 503
    assert refused.attributes is not None
    assert refused.attributes["omnigate.upstream.attempts"] == 0
    assert "http.response.status_code" not in refused.attributes


async def test_no_span_joins_a_trace_the_sampler_dropped(exporter: InMemorySpanExporter) -> None:
    dropped = SpanContext(trace_id=1, span_id=2, is_remote=False, trace_flags=TraceFlags(0))
    transport = flaky([200, 200])
    async with HttpClient(config(exporter), source="tiny", transport=transport, sleep=nap) as c:
        with trace.use_span(NonRecordingSpan(dropped)):
            await c.request("GET", "/people", operation="people.list")
        assert exporter.get_finished_spans() == ()
        await c.request("GET", "/people", operation="people.list")  # no parent: its own trace
    assert [s.name for s in exporter.get_finished_spans()] == ["tiny people.list"]
