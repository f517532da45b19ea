"""``health``: the one field an anonymous caller may read."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from resolvers.context import RequestContext
from resolvers.health import StockSyncReport, health_report


@strawberry.enum(description="State of a connector's circuit breaker.")
class CircuitState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@strawberry.type
class ConnectorHealth:
    name: str = strawberry.field(description="Vendor name, e.g. `shopify`.")
    circuit: CircuitState
    capabilities: list[str] = strawberry.field(
        description="What this connector provides: customers, orders, inventory, ..."
    )


@strawberry.type
class StoreHealth:
    kind: str = strawberry.field(description="`mongo` or `memory`.")
    reachable: bool


@strawberry.type
class WebhookHealth:
    dead_letters: int | None = strawberry.field(
        description="Signed deliveries kept because they can never be applied as they are "
        "(malformed for their topic, or failing in a handler); they need an operator. Null "
        "when the store cannot be read."
    )


@strawberry.type(description="The last stock warmup or reconciliation (on any replica).")
class StockSyncHealth:
    kind: str = strawberry.field(description="`warmup` or `reconciliation`.")
    finished_at: datetime | None
    levels_read: int = strawberry.field(description="Levels read from upstream.")
    loaded: int = strawberry.field(description="Levels the store did not have yet.")
    repaired: int = strawberry.field(
        description="Stored levels whose quantities differed from upstream, replaced (each "
        "is logged with both versions)."
    )
    failed_sources: list[str] = strawberry.field(
        description="Sources that could not be read in that run."
    )


@strawberry.type
class Health:
    version: str
    demo_mode: bool = strawberry.field(
        description="True when the gateway serves its embedded sandboxes, not real vendors."
    )
    store: StoreHealth
    connectors: list[ConnectorHealth]
    webhooks: WebhookHealth
    stock_sync: StockSyncHealth | None = strawberry.field(
        description="The last stock warmup or reconciliation; null before the first."
    )


@strawberry.type
class HealthQuery:
    @strawberry.field(description="Liveness and the state of each dependency. Open to anyone.")
    async def health(self, info: strawberry.Info[RequestContext, None]) -> Health:
        report = await health_report(info.context.services)
        return Health(
            version=report.version,
            demo_mode=report.demo_mode,
            store=StoreHealth(kind=report.store_kind, reachable=report.store_reachable),
            connectors=[
                ConnectorHealth(
                    name=c.name,
                    circuit=CircuitState(c.circuit),
                    capabilities=list(c.capabilities),
                )
                for c in report.connectors
            ],
            webhooks=WebhookHealth(dead_letters=report.dead_letters),
            stock_sync=_stock_sync(report.stock_sync),
        )


def _stock_sync(report: StockSyncReport | None) -> StockSyncHealth | None:
    if report is None:
        return None
    return StockSyncHealth(
        kind=report.cause,
        finished_at=report.finished_at,
        levels_read=report.read,
        loaded=report.loaded,
        repaired=report.repaired,
        failed_sources=list(report.failed_sources),
    )
