"""A fake inventory vendor for the stock freshness tests: levels it reports, orders it knows,
faults on demand, and a gate that holds a full read open (for lease races)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from connectors.records import InventoryLevel, OrderRecord, Source

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def level(
    sku: str, location_id: str, available: int, at: datetime, source: str = "shopify"
) -> InventoryLevel:
    return InventoryLevel(
        Source(source), sku, location_id, {"available": available, "on_hand": available + 1}, at
    )


class FakeInventory:
    """``Connector``, ``InventorySource``, ``ItemInventorySource`` and ``OrderSource``."""

    def __init__(self, levels: Sequence[InventoryLevel], source: str = "shopify") -> None:
        self.source = Source(source)
        self.levels = {(lv.sku, lv.location_id): lv for lv in levels}
        self.items: dict[str, str] = {}  # vendor item id -> sku
        self.orders: dict[str, OrderRecord] = {}
        self.fail: Exception | None = None
        self.reads: list[tuple[tuple[str, ...], tuple[str, ...] | None]] = []
        #: Set when a full read starts; the read waits for ``gate`` when one is given.
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None

    def set(self, sku: str, location_id: str, available: int, later: timedelta) -> None:
        """Change a level upstream, ``later`` after its current timestamp."""
        old = self.levels[(sku, location_id)]
        self.levels[(sku, location_id)] = replace(
            old,
            quantities={**old.quantities, "available": available},
            updated_at=old.updated_at + later,
        )

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def circuit_state(self) -> str:
        return "closed"

    async def inventory_levels(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[InventoryLevel]:
        if self.fail is not None:
            raise self.fail
        self.reads.append((tuple(skus), tuple(location_ids) if location_ids else None))
        return [
            lv
            for (sku, loc), lv in self.levels.items()
            if sku in skus and (location_ids is None or loc in location_ids)
        ]

    async def list_inventory_levels(self) -> AsyncIterator[list[InventoryLevel]]:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        ordered = sorted(self.levels.values(), key=lambda lv: (lv.sku, lv.location_id))
        for start in range(0, len(ordered), 2):
            yield ordered[start : start + 2]

    async def item_levels(self, item_ref: str) -> list[InventoryLevel]:
        sku = self.items.get(item_ref)
        return [lv for (s, _), lv in self.levels.items() if s == sku]

    async def orders_for_customers(
        self, customer_ids: Sequence[str]
    ) -> Mapping[str, list[OrderRecord]]:
        return {}

    async def get_orders(self, ids: Sequence[str]) -> Mapping[str, OrderRecord]:
        if self.fail is not None:
            raise self.fail
        return {i: self.orders[i] for i in ids if i in self.orders}
