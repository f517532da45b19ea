"""Log records carry the trace id of the span current when they are made: as JSON fields,
at the end of a terminal line, and not at all outside a span or with tracing off."""

from __future__ import annotations

import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from gateway.logs import JsonFormatter, TextFormatter, TraceContext


def record(message: str = "hello") -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "omnigate.test", "msg": message, "levelno": 20})
    TraceContext().filter(made)
    return made


def test_a_record_made_in_a_span_carries_its_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        made = record()
    context = span.get_span_context()
    fields = json.loads(JsonFormatter().format(made))
    assert fields["trace_id"] == format(context.trace_id, "032x")
    assert fields["span_id"] == format(context.span_id, "016x")
    assert TextFormatter().format(made).endswith(f"hello trace_id={fields['trace_id']}")


def test_no_ids_outside_a_span_or_on_a_no_op_span() -> None:
    with trace.NoOpTracer().start_as_current_span("nothing"):
        inside_no_op = record()
    for made in (record(), inside_no_op):
        assert "trace_id" not in json.loads(JsonFormatter().format(made))
        assert TextFormatter().format(made).endswith("hello")
