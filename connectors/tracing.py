"""What every layer's spans share: whether the trace they would join was dropped.

A span whose parent was not sampled would not be recorded either (the sampler follows the
parent, as OpenTelemetry's default ``ParentBased`` one does), yet making it still costs the
SDK's sampling and a context switch, a good part of what recording it costs. So a layer asks
first and, in a dropped trace, makes no span. Work outside any span (a sync, a sweeper) has
no parent and makes its own, which the sampler decides.
"""

from __future__ import annotations

from opentelemetry import trace


def parent_dropped() -> bool:
    """Whether the current span belongs to a trace the sampler did not record."""
    context = trace.get_current_span().get_span_context()
    return context.is_valid and not context.trace_flags.sampled
