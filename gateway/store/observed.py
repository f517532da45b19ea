"""The store as the gateway serves with it: every port call a trace span, and the outcomes
the store decides (a pickup hold placed or refused, released, expired, settled; a ledger
entry applied, a duplicate, refused) told to the metrics.

A proxy around whichever :class:`~resolvers.store.Store` the settings opened, put in place
by the composition root (:mod:`gateway.runtime`), so neither implementation nor any caller
knows of it. The store is where these outcomes are decided, in one conditional write each,
so counting them here counts each exactly once, whoever asked: a mutation, the hold sweeper,
a webhook's settlement, the loyalty earning after a profile build.

A span (``store <port>.<method>``) names the port, the method and the backend, never the
arguments (ids, emails). Store calls make no spans of their own beneath, so the span is not
made current (which would cost a context switch per call). Each method's wrapper is made on
its first call and kept, so a call costs one extra coroutine frame and a span; with tracing
off, only the methods whose outcomes are counted are wrapped, and the rest are the backend's
own. What is not a coroutine method (a backend's own attributes) is passed through untouched.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from connectors.tracing import parent_dropped
from resolvers.model import HoldStatus, LedgerEntry, LedgerResult
from resolvers.store import (
    CatalogStore,
    CheckpointStore,
    CodeStore,
    IdentityStore,
    InventoryStore,
    LeaseStore,
    LedgerStore,
    ProfileStore,
    SavedSegmentStore,
    SegmentFactStore,
    Store,
    WebhookStore,
)
from resolvers.store.inventory import HoldWrite

#: The ports of :class:`~resolvers.store.Store` (its properties), each wrapped.
PORTS = tuple(name for name, value in vars(Store).items() if isinstance(value, property))


class StoreObserver(Protocol):
    """Told what the store decided (the gateway's metrics)."""

    def hold(self, outcome: str, reason: str = "") -> None:
        """``placed``, ``replayed`` (a repeated idempotency key), ``refused`` (``reason``:
        ``INSUFFICIENT_STOCK``), ``completed``, ``released``, ``expired``, ``settled``."""

    def ledger(self, kind: str, result: str) -> None:
        """An entry of ``kind`` (``earn``, ``redeem``...) and what became of it
        (``applied``, ``duplicate``, ``insufficient_balance``...)."""


Method = Callable[..., Awaitable[Any]]
#: Turns a port method's result into what the observer is told.
Outcome = Callable[[StoreObserver, tuple[Any, ...], dict[str, Any], Any], None]


def _created(observer: StoreObserver, args: tuple[Any, ...], kw: dict[str, Any], got: Any) -> None:
    written: HoldWrite | None = got
    if written is None:
        observer.hold("refused", "INSUFFICIENT_STOCK")
    else:
        observer.hold("placed" if written.change is not None else "replayed")


def _finished(observer: StoreObserver, args: tuple[Any, ...], kw: dict[str, Any], got: Any) -> None:
    status: HoldStatus = kw["status"] if "status" in kw else args[1]
    if got is not None:
        observer.hold(status.value)


def _completed(
    observer: StoreObserver, args: tuple[Any, ...], kw: dict[str, Any], got: Any
) -> None:
    if got is not None:
        observer.hold("completed")


def _applied(observer: StoreObserver, args: tuple[Any, ...], kw: dict[str, Any], got: Any) -> None:
    entry: LedgerEntry = kw["entry"] if "entry" in kw else args[0]
    result: LedgerResult = got[0]
    observer.ledger(entry.kind.value, result.value)


#: The methods whose results are outcomes, by port.
OUTCOMES: dict[tuple[str, str], Outcome] = {
    ("inventory", "create_hold"): _created,
    ("inventory", "finish_hold"): _finished,
    ("inventory", "complete_hold"): _completed,
    ("ledger", "apply_ledger_entry"): _applied,
    ("ledger", "apply_if_unmoved"): _applied,
}


class _Port:
    """One port of the store, its coroutine methods traced (and observed, for some)."""

    def __init__(
        self,
        port: Any,
        name: str,
        backend: str,
        tracer: Tracer | None,
        observer: StoreObserver | None,
    ) -> None:
        self._port = port
        self._name = name
        self._backend = backend
        self._tracer = tracer
        self._observer = observer

    def __getattr__(self, attr: str) -> Any:
        if attr == "_port":
            raise AttributeError(attr)
        value = getattr(self._port, attr)
        if attr.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        outcome = OUTCOMES.get((self._name, attr)) if self._observer is not None else None
        if self._tracer is not None:
            value = self._traced(attr, value, self._tracer)
        if outcome is not None and self._observer is not None:
            value = _observed(value, outcome, self._observer)
        setattr(self, attr, value)  # found without __getattr__ from now on
        return value

    def _traced(self, method: str, call: Method, tracer: Tracer) -> Method:
        span_name = f"store {self._name}.{method}"
        attributes = {
            "omnigate.store.port": self._name,
            "db.operation.name": method,
            "omnigate.store.backend": self._backend,
        }

        @functools.wraps(call)
        async def traced(*args: Any, **kwargs: Any) -> Any:
            if parent_dropped():
                return await call(*args, **kwargs)
            span = tracer.start_span(span_name, kind=SpanKind.CLIENT, attributes=attributes)
            try:
                return await call(*args, **kwargs)
            except BaseException as error:
                # The type only: a store error's message may quote a key.
                span.set_attribute("error.type", type(error).__name__)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                raise
            finally:
                span.end()

        return traced


def _observed(call: Method, outcome: Outcome, observer: StoreObserver) -> Method:
    @functools.wraps(call)
    async def observed(*args: Any, **kwargs: Any) -> Any:
        got = await call(*args, **kwargs)
        outcome(observer, args, kwargs, got)
        return got

    return observed


class ObservedStore:
    """A :class:`~resolvers.store.Store` whose port calls are traced and whose outcomes are
    observed (see the module docstring); anything else is the wrapped store's."""

    profiles: ProfileStore
    identities: IdentityStore
    inventory: InventoryStore
    catalog: CatalogStore
    ledger: LedgerStore
    codes: CodeStore
    webhooks: WebhookStore
    checkpoints: CheckpointStore
    leases: LeaseStore
    segments: SegmentFactStore
    saved_segments: SavedSegmentStore

    def __init__(
        self,
        store: Store,
        *,
        tracer: Tracer | None = None,
        observer: StoreObserver | None = None,
    ) -> None:
        self.inner = store
        self.kind = store.kind
        for port in PORTS:
            wrapped = _Port(getattr(store, port), port, store.kind, tracer, observer)
            setattr(self, port, wrapped)

    async def init(self) -> None:
        await self.inner.init()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        return await self.inner.ping()

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":  # not set yet (a copy being made)
            raise AttributeError(attr)
        return getattr(self.inner, attr)


def unwrapped(store: Store) -> Store:
    """The store an :class:`ObservedStore` wraps (the backend's own class), or ``store``."""
    return store.inner if isinstance(store, ObservedStore) else store
