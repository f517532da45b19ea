"""What stock does when a vendor's webhook says something changed.

- An inventory webhook (``inventory_levels/update``, ``inventory.count.updated``) carries the
  new level: it goes through :func:`resolvers.stock.levels.store_level`, where the store's
  timestamp rule refuses anything not newer than what it holds, so a duplicate or an older
  delivery arriving late changes nothing and announces nothing.
- One that names an item the connector cannot map to a SKU yet (a Shopify inventory item
  created since the SKU cache was filled, a new Square variation) is not dropped: that item's
  levels are re-read from the vendor (``ItemInventorySource.item_levels``).
- An order or a refund moves stock without saying how much (a web order commits units, a
  restocked return puts them back): the levels of its lines at its location (every location
  when the order names none) are re-read from the same vendor, cause ``order``. A failed
  re-read is logged, not raised: the order's own handling succeeded, and reconciliation
  repairs the level later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from connectors.capabilities import InventorySource, ItemInventorySource, OrderSource
from connectors.errors import UpstreamError
from connectors.records import (
    InventoryChanged,
    InventoryLevel,
    OrderChanged,
    OrderRecord,
    RefundCreated,
)
from connectors.registry import ConnectorSet
from resolvers.model import StockLevel
from resolvers.stock.levels import LevelServices, store_level

log = logging.getLogger("omnigate.stock.webhooks")


class FreshnessServices(LevelServices, Protocol):
    """What re-reading upstream needs besides storing (``resolvers.context.Services`` has
    it); a protocol, so the stock package never imports the container."""

    @property
    def connectors(self) -> ConnectorSet: ...


def stock_level(level: InventoryLevel) -> StockLevel:
    """A vendor's level as the store keeps it (``held`` and ``version`` are the store's)."""
    return StockLevel(
        sku=level.sku,
        location_id=level.location_id,
        quantities=dict(level.quantities),
        updated_at=level.updated_at,
        source=level.source,
    )


async def store_levels(
    services: FreshnessServices, levels: Iterable[InventoryLevel], cause: str
) -> int:
    """Store each level through the one path; how many were applied."""
    applied = 0
    for level in levels:
        applied += await store_level(services, stock_level(level), cause=cause) is not None
    return applied


async def apply_inventory_change(services: FreshnessServices, event: InventoryChanged) -> None:
    if event.level is not None:
        await store_level(services, stock_level(event.level), cause="webhook")
        return
    if event.item_ref is None:
        log.info("inventory event %s names no item; left to reconciliation", event.event_id)
        return
    # Upstream errors propagate: the vendor retries the delivery.
    for source in services.connectors.of(ItemInventorySource):
        if source.source != event.source:
            continue
        levels = await source.item_levels(event.item_ref)
        here = [lv for lv in levels if event.location_ref in (None, lv.location_id)]
        applied = await store_levels(services, here, "webhook")
        log.info(
            "inventory event %s named unknown item %s: re-read %d level(s), %d applied",
            event.event_id,
            event.item_ref,
            len(here),
            applied,
        )


async def refresh_order_stock(
    services: FreshnessServices, event: OrderChanged | RefundCreated
) -> None:
    try:
        order = event.order if isinstance(event, OrderChanged) else None
        if order is None:
            order = await _fetch_order(services, event)
        if order is None:
            return
        skus = sorted({line.sku for line in order.line_items if line.sku})
        if not skus:
            return
        locations = [order.location_id] if order.location_id else None
        for source in services.connectors.of(InventorySource):
            if source.source == event.source:
                levels = await source.inventory_levels(skus, locations)
                await store_levels(services, levels, "order")
    except UpstreamError as exc:
        log.warning(
            "stock of order %s not re-read (%s); reconciliation will", event.order_id, exc.code
        )


async def _fetch_order(
    services: FreshnessServices, event: OrderChanged | RefundCreated
) -> OrderRecord | None:
    for source in services.connectors.of(OrderSource):
        if source.source == event.source:
            return (await source.get_orders([event.order_id])).get(event.order_id)
    return None


__all__ = [
    "FreshnessServices",
    "apply_inventory_change",
    "refresh_order_stock",
    "stock_level",
    "store_levels",
]
