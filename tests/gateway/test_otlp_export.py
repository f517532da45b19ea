"""With a collector configured, the gateway exports its spans over OTLP/HTTP to
``<endpoint>/v1/traces`` under its service name, flushing what is buffered when it stops;
the process's global provider is left as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

from gateway.app import create_app
from tests.gateway.conftest import TOKENS
from tests.support import gql, make_settings, serve


@pytest.fixture
async def collector() -> AsyncIterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """A loopback stand-in for an OpenTelemetry collector's OTLP/HTTP receiver."""
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        received.append(message)
        return web.Response(content_type="application/x-protobuf", body=b"")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_spans_reach_the_collector_when_the_app_stops(
    collector: tuple[str, list[ExportTraceServiceRequest]],
) -> None:
    endpoint, received = collector
    settings = make_settings(
        tokens=TOKENS, otel_exporter_otlp_endpoint=endpoint, otel_service_name="omnigate-test"
    )
    app = create_app(settings)
    async with serve(app) as url, aiohttp.ClientSession() as http:
        status, body = await gql(http, url, "query Ping { viewer { role } }", token="sf-token")
        assert status == 200, body
    # The batch processor had not sent it yet; the lifespan's shutdown did.
    spans = {
        span.name: resource.resource
        for message in received
        for resource in message.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
    assert "query Ping" in spans
    attributes = {a.key: a.value.string_value for a in spans["query Ping"].attributes}
    assert attributes["service.name"] == "omnigate-test"
    assert not isinstance(trace.get_tracer_provider(), SdkTracerProvider)


def test_the_standard_variable_names_the_collector_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-gateway")
    settings = make_settings()
    assert settings.otel_exporter_otlp_endpoint == "http://collector:4318"
    assert settings.otel_service_name == "shop-gateway"
