"""Customer 360 benchmark: prints figures measured in one run against the real stack.

- upstream calls for one query that builds 50 customers' 360 (federation ``_entities``),
  with per-request DataLoaders and with them disabled;
- cold 360 latency (profile not cached) against sandboxes with 20 ms added latency, p50/p99,
  and its ratio to the slowest single upstream call (parallel sources: close to 1; serial
  sources: close to the number of sources);
- warm ``customerLookup`` throughput and p99 at 50 concurrent clients, and the upstream calls
  it made (zero: served from the cache).

``--trace sdk`` runs it all with tracing on: an OpenTelemetry SDK provider whose spans go to
an in-memory exporter through the batch processor the OTLP export uses (so only the export's
network is left out), to read the tracing overhead against the default (no provider: no-op
spans).

Run: ``make bench`` or ``.venv/bin/python bench/customer360.py [--people N] [--trace sdk]``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import pct, print, sandbox_processes
from connectors.records import Source
from gateway.app import create_app
from resolvers.context import RequestContext
from resolvers.loaders import Loaders
from resolvers.viewer import Role, Viewer
from tests.support import listening_socket, serve

FIELDS = """
  id displayName emails phones
  identities { source id }
  consent { email { state } sms { state } }
  stats { lifetimeValue { amount } orderCount isOmnichannel favouriteLocation { id } }
  marketing { lastOpenedAt lastClickedAt }
  orders(first: 10) { totalCount edges { node { id channel total { amount } } } }
  cache { stale }
"""
ENTITIES = (
    "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Customer {"
    + FIELDS
    + "} } }"
)
LOOKUP = "query($q: String!) { customerLookup(query: $q, first: 5) { id displayName } }"

#: The vendors the benchmark drives, in the order it reports them.
SOURCES = (Source("shopify"), Source("square"), Source("klaviyo"))


async def multi_source_profiles(app: Any, count: int) -> list[tuple[str, list[str]]]:
    """Profiles known to at least two sources, with their emails."""
    store = app.state.services.store
    chosen: list[tuple[str, list[str]]] = []
    for profile in sorted(
        (await store.profiles.find_profiles(name_prefix="a", limit=5000)), key=lambda d: d.id
    ):
        identities = (await store.identities.identities_of([profile.id])).get(profile.id, [])
        if len({i.source for i in identities}) >= 2 and profile.emails:
            chosen.append((profile.id, profile.emails))
        if len(chosen) == count:
            break
    return chosen


async def forget(app: Any, ids: list[str]) -> None:
    for pid in ids:
        await app.state.services.store.profiles.delete_profile(pid)


async def calls_for_50(app: Any, ids: list[str], *, batch: bool) -> dict[str, int]:
    """One `_entities` query for 50 uncached customers, executed by the app's schema."""
    await forget(app, ids)
    counter = app.state.counter
    counter.reset()
    context = RequestContext(
        viewer=Viewer(role=Role.INTERNAL, name="bench"),
        services=app.state.services,
        loaders=Loaders(batch=batch),
    )
    reps = [{"__typename": "Customer", "id": pid} for pid in ids]
    result = await app.state.schema.execute(
        ENTITIES, variable_values={"reps": reps}, context_value=context
    )
    assert not result.errors, result.errors
    return {str(s): counter.count(connector=str(s)) for s in SOURCES}


async def single_call_latency(app: Any, ids: list[str]) -> dict[str, float]:
    """p50 of each kind of upstream call a cold 360 of these profiles makes, each call made
    alone for the same people: the floor any 360 pays is the slowest of them (a 360 that
    fetched its sources one after the other would pay their sum)."""
    connectors = app.state.services.connectors
    store = app.state.services.store
    placeholders = app.state.services.customers.placeholders
    shopify, square, klaviyo = (connectors.get(s) for s in SOURCES)
    samples: dict[str, list[float]] = {}
    identities = await store.identities.identities_of(ids)
    for pid in ids:
        by_source: dict[Source, list[str]] = {}
        emails: set[str] = set()
        for identity in identities.get(pid, []):
            by_source.setdefault(identity.source, []).append(identity.source_id)
            emails.update(e for e in identity.emails if not placeholders.is_placeholder_email(e))
        calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            # What the 360 asks Shopify for (customers, orders, guest orders) in one request.
            (
                "shopify bundle",
                functools.partial(
                    shopify.customer_bundle, by_source.get(Source("shopify"), []), sorted(emails)
                ),
            )
        ]
        if square_ids := by_source.get(Source("square")):
            calls += [
                ("square customers", functools.partial(square.get_customers, square_ids)),
                ("square orders", functools.partial(square.orders_for_customers, square_ids)),
            ]
        if klaviyo_ids := by_source.get(Source("klaviyo")):
            calls.append(("klaviyo profiles", functools.partial(klaviyo.profiles, ids=klaviyo_ids)))
        for name, call in calls:
            start = time.perf_counter()
            await call()
            samples.setdefault(name, []).append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


async def cold_latency(
    http: aiohttp.ClientSession, url: str, app: Any, ids: list[str]
) -> list[float]:
    durations = []
    for pid in ids:
        await forget(app, [pid])
        start = time.perf_counter()
        async with http.post(
            f"{url}/graphql",
            json={
                "query": ENTITIES,
                "variables": {"reps": [{"__typename": "Customer", "id": pid}]},
            },
            headers={"Authorization": "Bearer demo-internal"},
        ) as resp:
            body = await resp.json()
        durations.append(time.perf_counter() - start)
        assert "errors" not in body, body
    return durations


async def warm_lookups(
    http: aiohttp.ClientSession, url: str, emails: list[str], clients: int, per_client: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def client(n: int) -> None:
        for i in range(per_client):
            email = emails[(n * per_client + i) % len(emails)]
            start = time.perf_counter()
            async with http.post(
                f"{url}/graphql",
                json={"query": LOOKUP, "variables": {"q": email.upper()}},
                headers={"Authorization": "Bearer demo-staff"},
            ) as resp:
                body = await resp.json()
            latencies.append(time.perf_counter() - start)
            assert body["data"]["customerLookup"], body

    start = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies) / (time.perf_counter() - start), latencies


async def main(people: int, trace: str) -> None:
    sock, url = listening_socket()
    provider, exporter = None, None
    if trace == "sdk":
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    with sandbox_processes(people, url) as stack:
        app = create_app(
            stack.settings.model_copy(update={"log_level": "WARNING"}), tracer_provider=provider
        )
        print(f"tracing: {'SDK provider, in-memory exporter' if provider else 'off (no-op)'}")
        connector_limit = aiohttp.TCPConnector(limit=100)
        async with (
            serve(app, sock) as base,
            aiohttp.ClientSession(connector=connector_limit) as http,
        ):
            started = time.perf_counter()
            await app.state.seeded.wait()
            print(f"dataset: {people} people; initial sync {time.perf_counter() - started:.1f} s")
            chosen = await multi_source_profiles(app, 120)
            ids = [pid for pid, _ in chosen]

            batched = await calls_for_50(app, ids[:50], batch=True)
            unbatched = await calls_for_50(app, ids[:50], batch=False)
            print("upstream calls for one 50-customer 360 query:")
            print(f"  with DataLoaders:    {sum(batched.values()):4d}  {batched}")
            print(f"  loaders disabled:    {sum(unbatched.values()):4d}  {unbatched}")
            print(f"  ratio:               {sum(unbatched.values()) / sum(batched.values()):.1f}x")

            # Measure fan-out, not Shopify's cost bucket: 60 back-to-back cold 360s would
            # drain even a Plus bucket, and the figure would then time the refill.
            async with http.post(
                f"{stack.sandboxes['shopify']}/_sandbox/throttle",
                json={"restoreRate": 100000, "maximumAvailable": 1000},
            ) as resp:
                assert resp.status < 400, await resp.text()
            for vendor in stack.sandboxes:
                async with http.post(
                    f"{stack.sandboxes[vendor]}/_sandbox/faults",
                    json={"route": "*", "mode": "latency", "latency_ms": 20},
                ) as resp:
                    assert resp.status < 400, await resp.text()
            singles = await single_call_latency(app, ids[50:110])
            slowest_name = max(singles, key=lambda name: singles[name])
            slowest = singles[slowest_name]
            cold = await cold_latency(http, base, app, ids[50:110])
            print("cold 360 (one uncached customer, sandboxes +20 ms each call):")
            print("  each kind of upstream call alone, p50:")
            for name, value in singles.items():
                print(f"    {name:22s} {value * 1000:5.1f} ms")
            p50, p99 = pct(cold, 0.5) * 1000, pct(cold, 0.99) * 1000
            print(f"  cold 360 p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            print(
                f"  ratio p50 / slowest single call ({slowest_name}): "
                f"{pct(cold, 0.5) / slowest:.2f}"
            )

            for vendor in stack.sandboxes:
                async with http.delete(f"{stack.sandboxes[vendor]}/_sandbox/faults") as resp:
                    assert resp.status < 400
            emails = [e for _, es in chosen for e in es]
            await app.state.services.customers.wait_idle()
            app.state.counter.reset()
            throughput, latencies = await warm_lookups(http, base, emails, 50, 40)
            print("warm customerLookup, 50 concurrent clients x 40 lookups (HTTP, loopback):")
            print(
                f"  {throughput:.0f} lookups/s, p50 {pct(latencies, 0.5) * 1000:.1f} ms, "
                f"p99 {pct(latencies, 0.99) * 1000:.1f} ms, "
                f"upstream calls {app.state.counter.count()}"
            )
    if provider is not None and exporter is not None:
        provider.shutdown()
        print(f"spans recorded: {len(exporter.get_finished_spans())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--trace", choices=("off", "sdk"), default="off")
    args = parser.parse_args()
    asyncio.run(main(args.people, args.trace))
