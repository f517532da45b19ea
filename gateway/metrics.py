"""Prometheus metrics at ``/metrics``, one registry per app.

What is counted where it happens is counted once: upstream requests, retries and circuit
rejections are the :class:`~connectors.metrics.RequestCounter`'s own tallies (the ones tests
and benchmarks read), and circuit states and live subscriptions are read from the connectors
and the event bus at scrape time, by a collector (so are the events the bus delivered to
subscribers). Only what nothing else counts gets a Prometheus counter of its own: GraphQL
operations (by name, type and outcome, with their latency), webhook deliveries (by vendor and
outcome), pickup-hold outcomes and loyalty ledger outcomes (told by the store as the gateway
wraps it, :mod:`gateway.store.observed`, and by the hold service for requests refused before
the store was asked).

Operation names are the client's choice, so at most :data:`MAX_OPERATION_NAMES` distinct
ones get a label of their own; later ones are counted as ``other`` (a scrape must not grow
with every name a client makes up).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from connectors.metrics import RequestCounter
from connectors.registry import ConnectorSet
from resolvers.events import EventBus

MAX_OPERATION_NAMES = 200
CIRCUIT_STATES = ("closed", "half_open", "open")
#: Seconds; a warm answer is milliseconds, a cold 360 hundreds of them, the deadline 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Upstream(Collector):
    """The connectors' own tallies and states, read when Prometheus scrapes."""

    def __init__(
        self,
        counter: RequestCounter,
        connectors: ConnectorSet,
        events: EventBus,
        profiles: Mapping[str, int] | None = None,
    ):
        self.counter = counter
        self.connectors = connectors
        self.events = events
        self.profiles = profiles if profiles is not None else {}

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        requests = CounterMetricFamily(
            "omnigate_upstream_requests",
            "Requests sent to vendors (every attempt), by outcome: an HTTP status or an "
            "error kind such as timeout or connection_error.",
            labels=["connector", "operation", "outcome"],
        )
        retries = CounterMetricFamily(
            "omnigate_upstream_retries",
            "Failed upstream attempts that were repeated.",
            labels=["connector", "operation"],
        )
        rejected = CounterMetricFamily(
            "omnigate_upstream_rejected",
            "Upstream calls refused without a request because the circuit was open.",
            labels=["connector", "operation"],
        )
        for connector, operations in sorted(self.counter.snapshot().items()):
            for operation, stats in sorted(operations.items()):
                for outcome, count in sorted(stats["outcomes"].items()):
                    requests.add_metric([connector, operation, outcome], count)
                retries.add_metric([connector, operation], stats["retries"])
                rejected.add_metric([connector, operation], stats["rejected"])
        yield requests
        yield retries
        yield rejected
        circuits = GaugeMetricFamily(
            "omnigate_circuit_state",
            "1 for each connector's current circuit state (closed, half_open, open).",
            labels=["connector", "state"],
        )
        for vendor in self.connectors:
            current = vendor.circuit_state()
            for state in CIRCUIT_STATES:
                circuits.add_metric([str(vendor.source), state], 1 if current == state else 0)
        yield circuits
        subscriptions = GaugeMetricFamily(
            "omnigate_subscriptions_active",
            "Live subscribers per event-bus topic (GraphQL subscriptions and background "
            "listeners).",
            labels=["topic"],
        )
        for topic in self.events.topics():
            subscriptions.add_metric([topic], self.events.subscriber_count(topic))
        yield subscriptions
        delivered = CounterMetricFamily(
            "omnigate_subscription_events",
            "Events the event bus queued for a subscriber (one per subscriber that took "
            "it), per topic.",
            labels=["topic"],
        )
        for topic, count in sorted(self.events.delivered.items()):
            delivered.add_metric([topic], count)
        yield delivered
        cache = CounterMetricFamily(
            "omnigate_profile_cache",
            "Unified profiles served from the cache (hit), served stale while a refresh runs "
            "(stale), or built because nothing was cached (miss).",
            labels=["result"],
        )
        for result in ("hit", "stale", "miss"):
            cache.add_metric([result], self.profiles.get(result, 0))
        yield cache


class GatewayMetrics:
    def __init__(
        self,
        counter: RequestCounter,
        connectors: ConnectorSet | None = None,
        events: EventBus | None = None,
        profiles: Mapping[str, int] | None = None,
    ) -> None:
        """``profiles``: the customer service's cache tallies (``hit``, ``stale``, ``miss``),
        read at scrape time. Without ``connectors`` and ``events`` the scrape-time figures
        wait for :meth:`watch` (the store that reports holds is built before them)."""
        self.registry = CollectorRegistry()
        self._counter = counter
        if connectors is not None and events is not None:
            self.watch(connectors, events, profiles)
        self._operations = Counter(
            "omnigate_graphql_operations",
            "GraphQL operations by name, type and outcome (ok, or the first error code).",
            ["operation", "type", "outcome"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "omnigate_graphql_operation_duration_seconds",
            "How long GraphQL operations took, by name and type.",
            ["operation", "type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._webhooks = Counter(
            "omnigate_webhook_deliveries",
            "Webhook deliveries by vendor and outcome (accepted, duplicate, rejected, "
            "dead_lettered, retry_later).",
            ["vendor", "outcome"],
            registry=self.registry,
        )
        self._holds = Counter(
            "omnigate_pickup_holds",
            "Pickup hold outcomes: placed, replayed (a repeated idempotency key), refused "
            "(reason: the error code), completed, released, expired, settled.",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self._ledger = Counter(
            "omnigate_loyalty_ledger_entries",
            "Loyalty ledger entries by kind (earn, redeem...) and result (applied, duplicate, "
            "insufficient_balance, not_pending, superseded, moved).",
            ["kind", "result"],
            registry=self.registry,
        )
        self._names: set[str] = set()

    def watch(
        self,
        connectors: ConnectorSet,
        events: EventBus,
        profiles: Mapping[str, int] | None = None,
    ) -> None:
        """Read the upstream tallies, circuits, subscribers and cache at scrape time."""
        self.registry.register(_Upstream(self._counter, connectors, events, profiles))

    def operation(
        self, name: str | None, kind: str | None, seconds: float, codes: Iterable[str]
    ) -> None:
        label = self._name(name)
        kind_label = kind or "unknown"
        outcome = next(iter(codes), "ok")
        self._operations.labels(label, kind_label, outcome).inc()
        self._latency.labels(label, kind_label).observe(seconds)

    def webhook(self, vendor: str, outcome: str) -> None:
        self._webhooks.labels(vendor, outcome).inc()

    def hold(self, outcome: str, reason: str = "") -> None:
        self._holds.labels(outcome, reason).inc()

    def hold_refused(self, code: str) -> None:
        self._holds.labels("refused", code).inc()

    def ledger(self, kind: str, result: str) -> None:
        self._ledger.labels(kind, result).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _name(self, name: str | None) -> str:
        if not name:
            return "(anonymous)"
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return "other"
        self._names.add(name)
        return name
