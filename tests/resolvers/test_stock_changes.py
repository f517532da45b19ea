"""A stock change is announced once it is stored, as the store holds it: the units held by
pickup holds and the quantities an event did not carry are in the published level, and an
event that changed nothing (older than the stored level) announces nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.records import InventoryChanged, InventoryLevel, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.model import Hold, HoldStatus, StockChange, StockLevel
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.webhook_events import WebhookDispatcher

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
SHOPIFY = Source("shopify")


def event(available: int, at: datetime, event_id: str) -> InventoryChanged:
    level = InventoryLevel(SHOPIFY, "SKU-1", "shopify:1", {"available": available}, at)
    return InventoryChanged(SHOPIFY, event_id, at, level=level)


async def test_a_webhook_level_is_published_as_stored() -> None:
    store = MemoryStore()
    services = compose_services(store, ConnectorSet([]))
    await store.inventory.apply_stock_level(
        StockLevel("SKU-1", "shopify:1", {"available": 5, "on_hand": 7}, T0, source=SHOPIFY)
    )
    hold = Hold("h1", "SKU-1", "shopify:1", 2, HoldStatus.ACTIVE, T0, T0 + timedelta(hours=1))
    assert await store.inventory.create_hold(hold) is not None
    dispatcher = WebhookDispatcher(services)

    async with services.events.subscribe(STOCK_TOPIC) as changes:
        await dispatcher.handle(event(4, T0 + timedelta(minutes=1), "e-new"))
        await dispatcher.handle(event(9, T0 - timedelta(minutes=1), "e-old"))  # older: ignored
        first = changes.get_nowait()
        assert changes.empty()

    assert isinstance(first, StockChange)
    assert first.cause == "webhook"
    assert first.level.quantities == {"available": 4, "on_hand": 7, "safety_stock": 0}
    assert first.level.version == 3  # level, hold, webhook
    assert first.level.held == 2
    assert first.level.sellable == 2
