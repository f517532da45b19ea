"""A small world for the pickup-hold tests: three locations (a Shopify store with pickup, a
Square store with pickup, a warehouse without), services over any store, and helpers that
seed stock the way a vendor level arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.records import LocationKind, LocationRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from resolvers.context import ResolverConfig, Services
from resolvers.model import StockChange, StockLevel
from resolvers.stock.levels import store_level
from resolvers.store import Store
from resolvers.viewer import Role, Viewer

#: Near the real time, not a fixed date: MongoDB's TTL monitor purges hold documents a
#: retention after their expiry by the server's clock, and would delete a hold placed "in"
#: a long-gone month while a test still counts it.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
SHOPIFY_STORE = "shopify:101"
SQUARE_STORE = "square:LSQ1"
WAREHOUSE = "shopify:900"
SKU = "TEE-BLK-M"

INTERNAL = Viewer(role=Role.INTERNAL)
STOREFRONT = Viewer(role=Role.STOREFRONT)


def customer(customer_id: str) -> Viewer:
    return Viewer(role=Role.STOREFRONT, customer_id=customer_id, customer_token_presented=True)


def staff(*locations: str) -> Viewer:
    return Viewer(role=Role.STAFF, location_ids=frozenset(locations))


class FakeLocations:
    """A connector that only lists locations."""

    def __init__(self, source: Source, locations: list[LocationRecord]) -> None:
        self.source = source
        self.locations = locations

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def circuit_state(self) -> str:
        return "closed"

    async def list_locations(self) -> list[LocationRecord]:
        return list(self.locations)


def hold_services(store: Store, **config: int) -> Services:
    shopify = FakeLocations(
        Source("shopify"),
        [
            LocationRecord(Source("shopify"), SHOPIFY_STORE, "Soho", pickup_enabled=True),
            LocationRecord(
                Source("shopify"),
                WAREHOUSE,
                "Warehouse",
                kind=LocationKind.WAREHOUSE,
                pickup_enabled=False,
            ),
        ],
    )
    # Square says nothing of pickup itself; the demo and production set it per location.
    square = FakeLocations(
        Source("square"),
        [LocationRecord(Source("square"), SQUARE_STORE, "Brooklyn", pickup_enabled=True)],
    )
    return compose_services(
        store,
        ConnectorSet([shopify, square]),  # type: ignore[list-item]
        config=ResolverConfig(**config),  # type: ignore[arg-type]
    )


async def seed(
    services: Services,
    available: int,
    *,
    sku: str = SKU,
    location_id: str = SHOPIFY_STORE,
    at: datetime = T0,
    source: str = "shopify",
) -> None:
    """Store a vendor level as a webhook does (``store_level``, which also settles the
    completed holds the count now shows): ``available`` units at ``at``."""
    level = StockLevel(sku, location_id, {"available": available}, at, source=Source(source))
    await store_level(services, level, cause="webhook")


async def sellable(store: Store, *, sku: str = SKU, location_id: str = SHOPIFY_STORE) -> int:
    levels = await store.inventory.get_stock([sku], [location_id])
    assert len(levels) == 1
    return levels[0].sellable_for_pickup


def later(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def drain(subscription: Any) -> list[StockChange]:
    """Every change queued for a bus subscriber so far, without waiting. (Written against
    both shapes of the bus's subscription: one that exposes its ``asyncio.Queue`` and one
    that is the queue.)"""
    queue = getattr(subscription, "queue", subscription)
    found = []
    while not queue.empty():
        found.append(queue.get_nowait())
    return found
