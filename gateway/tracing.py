"""OpenTelemetry traces: where the gateway's spans go.

Every layer makes its spans on a tracer the composition root hands it (:mod:`gateway.runtime`):
the GraphQL operation (:mod:`schema.operation_log`), each DataLoader batch
(:mod:`resolvers.loaders`), each upstream call (:mod:`connectors.http`) and each store call
(:mod:`gateway.store.observed`). The tracers come from one provider:

- the one a caller passes to :func:`gateway.app.create_app` (tests, with an in-memory
  exporter; the caller owns and shuts it down);
- else, with ``OMNIGATE_OTEL_EXPORTER_OTLP_ENDPOINT`` (or the standard
  ``OTEL_EXPORTER_OTLP_ENDPOINT``) set, an SDK provider of the gateway's own, batching spans
  to that collector over OTLP/HTTP (``<endpoint>/v1/traces``), flushed and shut down when the
  app stops;
- else OpenTelemetry's global provider, if the process installed an SDK before the app was
  made (as ``opentelemetry-instrument`` does);
- else none: tracing is off, and every layer is handed ``None`` and makes no span at all (not
  even a no-op one, which still costs a context switch per call).

The global provider is never replaced: several apps in one process (tests) keep their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Tracer, TracerProvider

from gateway import __version__
from gateway.settings import Settings

log = logging.getLogger("omnigate.tracing")


@dataclass(frozen=True, slots=True)
class Tracing:
    #: ``None``: tracing is off.
    provider: TracerProvider | None
    #: Whether the gateway made the provider, and so flushes and shuts it down at exit.
    owned: bool = False

    def tracer(self, scope: str) -> Tracer | None:
        """The tracer of one instrumentation scope (``omnigate.graphql``...); ``None`` when
        tracing is off."""
        if self.provider is None:
            return None
        return self.provider.get_tracer(scope, __version__)

    def shutdown(self) -> None:
        """Export what is still buffered and stop (blocking: run it off the event loop)."""
        if self.owned:
            shutdown = getattr(self.provider, "shutdown", None)
            if shutdown is not None:
                shutdown()


def start_tracing(settings: Settings, provider: TracerProvider | None = None) -> Tracing:
    if provider is not None:
        return Tracing(provider)
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        installed = trace.get_tracer_provider()
        # The API's own stand-ins: no SDK was installed, so no span would be recorded.
        if isinstance(installed, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            return Tracing(None)
        return Tracing(installed)
    # Imported only when exporting: the SDK and the exporter are not needed otherwise.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {"service.name": settings.otel_service_name, "service.version": __version__}
    )
    sdk = SdkTracerProvider(resource=resource)
    url = endpoint.rstrip("/") + "/v1/traces"
    sdk.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    log.info("exporting traces to %s", url, extra={"otlp_endpoint": url})
    return Tracing(sdk, owned=True)
