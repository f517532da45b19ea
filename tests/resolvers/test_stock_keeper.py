"""A store that two vendors list (a Square store mapped onto its Shopify twin) takes its
stock from the one that keeps it, the POS: the online store's copy of that location never
overwrites the shelf count, and a location only one vendor lists takes that vendor's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.records import LocationRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.model import StockLevel
from resolvers.stock.levels import store_level
from tests.resolvers.fakes import FakeConnector

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
SHOPIFY, SQUARE = Source("shopify"), Source("square")
TWIN, ONLINE_ONLY = "shopify:1", "shopify:2"


class FakeLocations(FakeConnector):
    def __init__(self, source: Source, ids: list[str]) -> None:
        super().__init__(source)
        self.ids = ids

    async def list_locations(self) -> list[LocationRecord]:
        await self._call("list_locations")
        return [LocationRecord(source=self.source, id=i, name=i) for i in self.ids]


def level(source: Source, location: str, available: int, seconds: int) -> StockLevel:
    at = T0 + timedelta(seconds=seconds)
    return StockLevel("SKU-1", location, {"available": available}, at, source=source)


async def test_the_pos_keeps_a_shared_stores_stock() -> None:
    store = MemoryStore()
    connectors = ConnectorSet(
        [FakeLocations(SHOPIFY, [TWIN, ONLINE_ONLY]), FakeLocations(SQUARE, [TWIN])]
    )
    services = compose_services(store, connectors)

    assert await services.locations.stock_source(TWIN) == SQUARE
    assert await services.locations.stock_source(ONLINE_ONLY) == SHOPIFY
    assert await services.locations.stock_source("square:unknown") is None

    assert await store_level(services, level(SQUARE, TWIN, 5, 1), cause="webhook") is not None
    # Newer, but from the mirror: refused, and nothing announced.
    assert await store_level(services, level(SHOPIFY, TWIN, 9, 2), cause="webhook") is None
    assert await store_level(services, level(SHOPIFY, ONLINE_ONLY, 3, 1), cause="webhook")
    assert await store_level(services, level(SQUARE, ONLINE_ONLY, 7, 2), cause="webhook") is None

    stock = {s.location_id: s for s in await store.inventory.get_stock(["SKU-1"])}
    assert stock[TWIN].quantities["available"] == 5
    assert stock[TWIN].source == SQUARE
    assert stock[ONLINE_ONLY].quantities["available"] == 3


async def test_a_source_that_is_down_is_asked_once_per_few_seconds_not_per_level() -> None:
    from resolvers.locations import PARTIAL_TTL, LocationDirectory

    shopify, square = FakeLocations(SHOPIFY, [TWIN]), FakeLocations(SQUARE, [TWIN])
    square.failing = True
    now = [0.0]
    directory = LocationDirectory(ConnectorSet([shopify, square]), clock=lambda: now[0])
    for _ in range(20):  # a warmup storing twenty levels
        assert await directory.stock_source(TWIN) == SHOPIFY
    assert (shopify.calls["list_locations"], square.calls["list_locations"]) == (1, 1)
    now[0] += PARTIAL_TTL  # the partial read is stale: the next caller asks again
    square.failing = False
    assert await directory.stock_source(TWIN) == SQUARE
    assert square.calls["list_locations"] == 2
