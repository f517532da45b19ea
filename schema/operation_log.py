"""One log record per GraphQL operation: what ran, for whom, how long it took, how it ended and
what it cost upstream.

A record holds what identifies the operation, never what it carries: the operation's name as
the document defines it (a name the client sent that the document does not define is the
client's free text, and is left out), its type, the caller's role, the duration, the distinct
error codes and the upstream requests it sent. Variables, the query text and error messages
(which may quote values) stay out, so no record holds personal data.

Upstream requests are those sent from the operation's context and the tasks it started
(:func:`connectors.metrics.tally_calls`); work it merely awaited, begun by another operation,
is counted there.

Each operation is also one trace span (``query CustomerView``), carrying the same fields as
its record, and current while the operation executes, so the spans of its DataLoader
batches, upstream calls and store calls are its children. A W3C ``traceparent`` header on
the request (a federation router's) makes it a child of the caller's span. The record is
written while the span is current, so a log line carries its trace id
(:class:`gateway.logs.TraceContext`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import ClassVar

from graphql import GraphQLError, OperationDefinitionNode, get_operation_ast
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from connectors.metrics import tally_calls
from schema.errors import classify

log = logging.getLogger("omnigate.operations")

#: What strawberry lets out of an operation for the HTTP view to answer with a 400.
_REFUSED = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


#: Told each operation's name, type, duration in seconds and error codes (metrics).
OperationObserver = Callable[[str | None, str | None, float, list[str]], None]


class OperationLog(SchemaExtension):
    #: Set on a subclass per schema (:func:`observed`): strawberry builds an extension per
    #: operation from its class.
    observers: ClassVar[tuple[OperationObserver, ...]] = ()
    #: The gateway's tracer; ``None``: no spans.
    tracer: ClassVar[Tracer | None] = None

    _span: Span = trace.INVALID_SPAN

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        failure: str | None = None
        if self.tracer is not None:
            self._span = self.tracer.start_span(
                "graphql.operation", context=self._caller(), kind=SpanKind.SERVER
            )
        with tally_calls() as calls:
            try:
                yield
            except _REFUSED:
                failure = "BAD_REQUEST"
                raise
            except GraphQLError as error:
                # Raised by a hook (the parser cache, the token limit); strawberry answers
                # with this very error after the operation ends, so it is classified the
                # same way now and again then.
                classify(error)
                failure = str((error.extensions or {}).get("code"))
                raise
            except Exception:
                failure = "INTERNAL_SERVER_ERROR"
                raise
            finally:
                seconds = time.perf_counter() - started
                if self.tracer is None:
                    self._log(seconds, calls.requests, failure)
                else:
                    with trace.use_span(self._span, end_on_exit=True):
                        self._log(seconds, calls.requests, failure)

    def on_execute(self) -> Iterator[None]:
        # Current only while executing: entered and left in one coroutine, whereas a
        # subscription's operation hook is resumed from wherever its stream is closed.
        if self.tracer is None:
            yield
            return
        with trace.use_span(self._span, end_on_exit=False):
            yield

    def _caller(self) -> Context | None:
        """The caller's trace context (``traceparent``), when its request has a valid one."""
        request = getattr(self.execution_context.context, "request", None)
        headers = getattr(request, "headers", None)
        if headers is None or "traceparent" not in headers:
            return None
        caller = propagate.extract(headers)
        return caller if trace.get_current_span(caller).get_span_context().is_valid else None

    def _log(self, seconds: float, upstream_calls: int, failure: str | None) -> None:
        duration_ms = round(seconds * 1000, 1)
        operation = self._operation()
        name = operation.name.value if operation is not None and operation.name else None
        kind = operation.operation.value if operation is not None else None
        codes = [failure] if failure is not None else self._codes()
        for observe in self.observers:
            observe(name, kind, seconds, codes)
        viewer = getattr(self.execution_context.context, "viewer", None)
        role = str(viewer.role) if viewer is not None else "anonymous"
        self._trace(name, kind, role, codes, upstream_calls)
        log.info(
            "%s %s by %s: %.1f ms, errors: %s, upstream calls: %d",
            kind or "operation",
            name or "(anonymous)",
            role,
            duration_ms,
            ", ".join(codes) or "none",
            upstream_calls,
            extra={
                "operation": name,
                "operation_type": kind,
                "role": role,
                "duration_ms": duration_ms,
                "error_codes": codes,
                "upstream_calls": upstream_calls,
            },
        )

    def _trace(
        self, name: str | None, kind: str | None, role: str, codes: list[str], upstream: int
    ) -> None:
        span = self._span
        if not span.is_recording():
            return
        span.update_name(f"{kind or 'operation'} {name}" if name else kind or "graphql.operation")
        if name:
            span.set_attribute("graphql.operation.name", name)
        if kind:
            span.set_attribute("graphql.operation.type", kind)
        span.set_attribute("omnigate.role", role)
        span.set_attribute("omnigate.outcome", codes[0] if codes else "ok")
        span.set_attribute("omnigate.upstream_calls", upstream)
        if codes:
            span.set_attribute("omnigate.error_codes", codes)
            span.set_status(Status(StatusCode.ERROR, codes[0]))

    def _operation(self) -> OperationDefinitionNode | None:
        """The operation that ran: the one the request named, if the document defines it."""
        context = self.execution_context
        if context.graphql_document is None:
            return None
        return get_operation_ast(context.graphql_document, context.operation_name)

    def _codes(self) -> list[str]:
        """Distinct ``extensions.code`` of the answer's errors, in order of appearance."""
        context = self.execution_context
        result = context.result
        errors = (result.errors if result is not None else None) or context.pre_execution_errors
        codes: dict[str, None] = {}
        for error in errors or ():
            code = (error.extensions or {}).get("code")
            codes[str(code or "UNKNOWN")] = None
        return list(codes)


def observed(
    observer: OperationObserver | None = None, *, tracer: Tracer | None = None
) -> type[OperationLog]:
    """The operation log, also telling ``observer`` of every operation, and tracing on
    ``tracer``."""
    observers = (observer,) if observer is not None else ()
    return type("ObservedOperationLog", (OperationLog,), {"observers": observers, "tracer": tracer})
