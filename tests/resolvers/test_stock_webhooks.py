"""Webhooks keep stock fresh beyond the level they carry: an item not yet known by SKU is
re-read, and orders and refunds re-read the levels of their lines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.errors import UpstreamUnavailable
from connectors.records import (
    Channel,
    InventoryChanged,
    LineItem,
    Money,
    OrderChanged,
    OrderRecord,
    RefundCreated,
    Source,
)
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.stock.webhooks import refresh_order_stock
from resolvers.webhook_events import WebhookDispatcher
from tests.resolvers.stock_fakes import T0, FakeInventory, level

SHOPIFY = Source("shopify")
USD = Money(Decimal("10.00"), "USD")


def order(order_id: str, location_id: str | None, *skus: str) -> OrderRecord:
    return OrderRecord(
        SHOPIFY,
        order_id,
        Channel.IN_STORE,
        T0,
        USD,
        location_id=location_id,
        line_items=(*(LineItem(sku, sku, 1, USD) for sku in skus), LineItem(None, "x", 1, USD)),
    )


@pytest.fixture
def vendor() -> FakeInventory:
    return FakeInventory(
        [
            level("A", "shopify:1", 5, T0),
            level("A", "shopify:2", 6, T0),
            level("B", "shopify:1", 3, T0),
        ]
    )


async def test_an_unknown_item_is_re_read_at_the_webhooks_location(vendor: FakeInventory) -> None:
    store = MemoryStore()
    dispatcher = WebhookDispatcher(compose_services(store, ConnectorSet([vendor])))
    vendor.items["gid://shopify/InventoryItem/9"] = "A"
    event = InventoryChanged(
        SHOPIFY,
        "e1",
        T0,
        level=None,
        item_ref="gid://shopify/InventoryItem/9",
        location_ref="shopify:2",
    )
    await dispatcher.handle(event)
    stored = await store.inventory.get_stock(["A", "B"])
    assert [(lv.sku, lv.location_id, lv.quantities["available"]) for lv in stored] == [
        ("A", "shopify:2", 6)
    ]
    (change,) = await store.inventory.changes_since(0)
    assert change.cause == "webhook"


async def test_an_order_re_reads_its_lines_at_its_location(vendor: FakeInventory) -> None:
    store = MemoryStore()
    dispatcher = WebhookDispatcher(compose_services(store, ConnectorSet([vendor])))
    vendor.orders["o1"] = order("o1", "shopify:1", "A", "B")
    # Square-style: the event names the order only; it is fetched.
    await dispatcher.handle(OrderChanged(SHOPIFY, "e2", T0, order_id="o1"))
    assert vendor.reads == [(("A", "B"), ("shopify:1",))]
    changes = await store.inventory.changes_since(0)
    assert {(c.level.sku, c.level.location_id, c.cause) for c in changes} == {
        ("A", "shopify:1", "order"),
        ("B", "shopify:1", "order"),
    }

    # A web order names no location: every location of its SKUs is re-read.
    vendor.set("A", "shopify:2", 1, timedelta(minutes=1))
    web = order("o2", None, "A")
    await dispatcher.handle(OrderChanged(SHOPIFY, "e3", T0, order_id="o2", order=web))
    assert vendor.reads[-1] == (("A",), None)
    (a2,) = await store.inventory.get_stock(["A"], ["shopify:2"])
    assert a2.quantities["available"] == 1

    vendor.set("B", "shopify:1", 9, timedelta(minutes=1))  # a restocked return
    await dispatcher.handle(RefundCreated(SHOPIFY, "e4", T0, order_id="o1", refund_id="r1"))
    (b,) = await store.inventory.get_stock(["B"], ["shopify:1"])
    assert b.quantities["available"] == 9


async def test_an_upstream_failure_does_not_fail_the_order_webhook(vendor: FakeInventory) -> None:
    store = MemoryStore()
    services = compose_services(store, ConnectorSet([vendor]))
    vendor.fail = UpstreamUnavailable("down", source="shopify", operation="get_orders")
    # The stock handler alone (the customer handler has its own policy for the same fault).
    await refresh_order_stock(services, OrderChanged(SHOPIFY, "e5", T0, order_id="o1"))
    assert await store.inventory.last_seq() == 0


async def test_orders_of_another_vendor_are_not_re_read_here(vendor: FakeInventory) -> None:
    store = MemoryStore()
    dispatcher = WebhookDispatcher(compose_services(store, ConnectorSet([vendor])))
    other = order("o9", "square:L1", "A")
    await dispatcher.handle(OrderChanged(Source("square"), "e6", T0, order_id="o9", order=other))
    assert vendor.reads == []
