"""The gateway's own health: what ``health`` (GraphQL) and ``/readyz`` report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors.capabilities import (
    CatalogSource,
    CustomerSource,
    GuestOrderSource,
    InventorySource,
    LocationSource,
    MarketingSink,
    MarketingSource,
    OrderSource,
)
from resolvers.context import Services
from resolvers.stock.sync import last_run
from resolvers.store import StoreError

_CAPABILITIES: tuple[tuple[str, type], ...] = (
    ("customers", CustomerSource),
    ("orders", OrderSource),
    ("guest_orders", GuestOrderSource),
    ("locations", LocationSource),
    ("inventory", InventorySource),
    ("catalog", CatalogSource),
    ("marketing", MarketingSource),
    ("marketing_sink", MarketingSink),
)


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    name: str
    circuit: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StockSyncReport:
    """The last stock warmup or reconciliation, as kept in the store (any replica's)."""

    cause: str
    finished_at: datetime | None
    read: int
    loaded: int
    repaired: int
    failed_sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HealthReport:
    version: str
    demo_mode: bool
    store_kind: str
    store_reachable: bool
    connectors: tuple[ConnectorStatus, ...]
    #: Webhook deliveries kept because they can never be applied as they are (an operator
    #: should look: docs/runbooks.md); ``None`` when the store could not say.
    dead_letters: int | None = None
    #: The last stock warmup or reconciliation; ``None`` before any (or store unreadable).
    stock_sync: StockSyncReport | None = None

    @property
    def ready(self) -> bool:
        """Ready to serve: the store answers. An open circuit degrades one source's fields but
        does not make the gateway unready (it still serves cached profiles)."""
        return self.store_reachable


def connector_statuses(services: Services) -> tuple[ConnectorStatus, ...]:
    return tuple(
        ConnectorStatus(
            name=str(c.source),
            circuit=c.circuit_state(),
            capabilities=tuple(name for name, cap in _CAPABILITIES if isinstance(c, cap)),
        )
        for c in services.connectors
    )


async def health_report(services: Services) -> HealthReport:
    reachable = await services.store.ping()
    return HealthReport(
        version=services.version,
        demo_mode=services.demo_mode,
        store_kind=services.store.kind,
        store_reachable=reachable,
        connectors=connector_statuses(services),
        dead_letters=await _dead_letters(services) if reachable else None,
        stock_sync=await _stock_sync(services) if reachable else None,
    )


async def _dead_letters(services: Services) -> int | None:
    try:
        return await services.store.webhooks.count_dead_letters()
    except StoreError:
        return None


async def _stock_sync(services: Services) -> StockSyncReport | None:
    try:
        last = await last_run(services)
    except StoreError:
        return None
    if last is None:
        return None
    finished = last.get("finished_at")
    return StockSyncReport(
        cause=str(last.get("cause") or ""),
        finished_at=finished if isinstance(finished, datetime) else None,
        read=int(last.get("read") or 0),
        loaded=int(last.get("loaded") or 0),
        repaired=int(last.get("repaired") or 0),
        failed_sources=tuple(sorted(last.get("failed_sources") or ())),
    )
