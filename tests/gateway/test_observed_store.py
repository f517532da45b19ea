"""The store as the gateway wraps it: each hold transition and ledger result the store
decides is told once, whoever made the call (the hold service, the sweeper, settlement), and
every port call is a span naming port, method and backend, never an argument."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from gateway.store import MemoryStore
from gateway.store.observed import ObservedStore, unwrapped
from resolvers.model import LedgerEntry, LedgerKind
from resolvers.stock import holds
from resolvers.stock.holds import HoldRequest
from resolvers.stock.settlement import sweep
from resolvers.store import StoreError
from tests.resolvers.holds_world import INTERNAL, SHOPIFY_STORE, SKU, T0, hold_services, later, seed


@dataclass
class Told:
    holds: list[tuple[str, str]] = field(default_factory=list)
    entries: list[tuple[str, str]] = field(default_factory=list)

    def hold(self, outcome: str, reason: str = "") -> None:
        self.holds.append((outcome, reason))

    def ledger(self, kind: str, result: str) -> None:
        self.entries.append((kind, result))


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def told() -> Told:
    return Told()


@pytest.fixture
def store(exporter: InMemorySpanExporter, told: Told) -> ObservedStore:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return ObservedStore(MemoryStore(), tracer=provider.get_tracer("test"), observer=told)


async def test_every_hold_transition_is_told_once(store: ObservedStore, told: Told) -> None:
    services = hold_services(store)  # type: ignore[arg-type]
    await seed(services, 5)
    ask = HoldRequest(SKU, SHOPIFY_STORE, 2, idempotency_key="k1")
    kept = await holds.create(services, INTERNAL, ask, now=T0)
    await holds.create(services, INTERNAL, ask, now=T0)  # the same key again
    gone = await holds.create(services, INTERNAL, HoldRequest(SKU, SHOPIFY_STORE, 2), now=T0)
    lapsing = await holds.create(services, INTERNAL, HoldRequest(SKU, SHOPIFY_STORE, 1), now=T0)
    with pytest.raises(holds.HoldError):
        await holds.create(services, INTERNAL, HoldRequest(SKU, SHOPIFY_STORE, 1), now=T0)
    await holds.release(services, INTERNAL, gone.id, now=later(1))
    await holds.release(services, INTERNAL, gone.id, now=later(1))  # answered again, no move
    await holds.complete(services, INTERNAL, kept.id, now=later(1))
    await seed(services, 3, at=later(2))  # the sale shows in the count: settled
    summary = await sweep(services, later(31), settle_timeout=timedelta(hours=1))
    assert summary.expired == 1
    assert (await store.inventory.get_hold(lapsing.id)) is not None
    assert told.holds == [
        ("placed", ""),
        ("replayed", ""),
        ("placed", ""),
        ("placed", ""),
        ("refused", "INSUFFICIENT_STOCK"),
        ("released", ""),
        ("completed", ""),
        ("settled", ""),
        ("expired", ""),
    ]


async def test_ledger_results_are_told_by_kind(store: ObservedStore, told: Told) -> None:
    await store.init()
    earn = LedgerEntry("e1", "acct", 10, LedgerKind.ADJUST, T0, reason="welcome")
    await store.ledger.apply_ledger_entry(earn)
    await store.ledger.apply_ledger_entry(earn)
    spend = LedgerEntry("r1", "acct", -50, LedgerKind.REDEEM, T0)
    await store.ledger.apply_ledger_entry(entry=spend)
    assert told.entries == [
        ("adjust", "applied"),
        ("adjust", "duplicate"),
        ("redeem", "insufficient_balance"),
    ]


async def test_port_calls_are_spans_without_their_arguments(
    store: ObservedStore, exporter: InMemorySpanExporter
) -> None:
    await store.profiles.get_profiles(["person@example.com"])
    [span] = exporter.get_finished_spans()
    assert span.name == "store profiles.get_profiles"
    assert span.attributes == {
        "omnigate.store.port": "profiles",
        "db.operation.name": "get_profiles",
        "omnigate.store.backend": "memory",
    }
    assert store.kind == "memory"
    assert isinstance(unwrapped(store), MemoryStore)  # type: ignore[arg-type]


async def test_a_failed_call_is_an_error_span_naming_only_the_error_type(
    store: ObservedStore, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*args: object, **kwargs: object) -> None:
        raise StoreError("mongo get_profiles failed near person@example.com")

    # Replaced before the proxy's first call of it, which is when it wraps the method.
    monkeypatch.setattr(unwrapped(store).profiles, "get_profiles", down)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await store.profiles.get_profiles(["x"])
    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "StoreError"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "StoreError"
    assert "person@example.com" not in str(span.to_json())


def test_every_port_of_the_store_is_wrapped(store: ObservedStore) -> None:
    """A port the wrapper did not wrap would reach the inner store untraced."""
    from gateway.store.observed import _Port
    from resolvers.store import Store

    ports = [name for name, value in vars(Store).items() if isinstance(value, property)]
    assert "saved_segments" in ports
    for name in ports:
        assert isinstance(getattr(store, name), _Port), name
