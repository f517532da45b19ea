"""Structured logging: JSON lines in production (one object per record, for log shippers),
readable lines on a terminal. Secrets never reach a record: settings hold them as
``SecretStr`` and the HTTP base logs no headers or bodies.

A record made while a trace span is current carries its ``trace_id`` and ``span_id``
(:class:`TraceContext`): in JSON as fields, on a terminal after the message, so a log line
leads to its trace and back."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

#: Record attributes that are not user data; ``color_message`` is uvicorn's ANSI copy of msg.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TraceContext(logging.Filter):
    """Adds the current span's ``trace_id`` and ``span_id`` (hex, as trace viewers show
    them) to a record made while one is current; a handler's filter, so it sees the records
    of every logger. Nothing is added outside a span, or with tracing off (no-op spans have
    no valid context)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


class TextFormatter(logging.Formatter):
    """One readable line; the trace id, when the record has one, at its end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        trace_id = getattr(record, "trace_id", None)
        return f"{line} trace_id={trace_id}" if trace_id else line


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(TraceContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log repeats every request; ours is enough outside debugging.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
