"""Pickup and stock figures on every backend: holds and levels written through the store's
own methods at chosen times (the journal's clock is set per write), answers worked out by
hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import gateway.store.memory.inventory as memory_inventory
import gateway.store.mongo.stock_journal as mongo_journal
from gateway.store.timeutil import to_utc
from resolvers.model import HoldStatus
from resolvers.store import InventoryStore
from resolvers.store.inventory_figures import HoldFigures
from tests.store.builders import hold, level

# Recent, so MongoDB's 24 h TTL on the journal keeps the entries for the test's length.
BASE = to_utc(datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6))
H = timedelta(hours=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """``clock[0]`` is the time the journal stamps on the next write."""
    now = [BASE]
    monkeypatch.setattr(memory_inventory, "utc_now", lambda: now[0])
    monkeypatch.setattr(mongo_journal, "utc_now", lambda: now[0])
    return now


async def put(
    inventory: InventoryStore,
    clock: list[datetime],
    sku: str,
    at: datetime,
    available: int,
    cause: str = "webhook",
) -> None:
    clock[0] = at
    assert await inventory.apply_stock_level(level(sku, available=available, at=at), cause=cause)


async def test_stock_figures(inventory: InventoryStore, clock: list[datetime]) -> None:
    since, until = BASE, BASE + 4 * H
    await put(inventory, clock, "SKU-1", BASE - H, 5, cause="warmup")  # the start level
    await put(inventory, clock, "SKU-1", BASE + H, 2)  # sold 5-2 = 3
    await put(inventory, clock, "SKU-1", BASE + 2 * H, 0)  # sold 2-0 = 2; out of stock
    await put(inventory, clock, "SKU-1", BASE + 3 * H, 10)  # received 10; back after 1 h
    await put(inventory, clock, "SKU-2", BASE + H, 4)  # first entry: the start, not a sale
    await put(inventory, clock, "SKU-2", BASE + 2 * H, 3)  # sold 1
    await put(inventory, clock, "SKU-2", BASE + 5 * H, 0)  # after the period

    rows = await inventory.stock_figures(since, until)
    assert [(r.sku, r.location_id) for r in rows] == [("SKU-1", "loc-a"), ("SKU-2", "loc-a")]
    one, two = rows
    assert (one.units_sold, one.units_received, one.available_at_start) == (5, 10, 5)
    assert one.sell_through == pytest.approx(5 / (5 + 10))
    assert one.out_of_stock_hours == pytest.approx(1.0)  # 0 from +2 h to +3 h
    assert (two.units_sold, two.units_received, two.available_at_start) == (1, 0, 4)
    assert two.sell_through == pytest.approx(1 / 4)
    assert two.out_of_stock_hours == 0

    [top] = await inventory.stock_figures(since, until, first=1)
    assert top.sku == "SKU-1"
    assert await inventory.stock_figures(since, until, ["loc-b"]) == []
    # From +2.5 h: SKU-1 starts at 0 (its +2 h entry) and is out until +3 h: 0.5 h, no sale.
    late = await inventory.stock_figures(BASE + 2.5 * H, until)
    assert [(r.sku, r.units_sold, r.out_of_stock_hours) for r in late] == [("SKU-1", 0, 0.5)]


async def test_hold_figures(inventory: InventoryStore, clock: list[datetime]) -> None:
    for location in ("loc-a", "loc-b"):
        await put_level(inventory, location)
    made = {
        "h1": ("loc-a", 2, HoldStatus.COMPLETED, 0),
        "h2": ("loc-a", 1, HoldStatus.EXPIRED, 1),
        "h3": ("loc-a", 3, HoldStatus.RELEASED, 1),
        "h4": ("loc-a", 1, HoldStatus.ACTIVE, 2),
        "h5": ("loc-a", 2, HoldStatus.SETTLED, 3),
        "h6": ("loc-b", 1, HoldStatus.ACTIVE, 1),
        "h7": ("loc-a", 1, HoldStatus.COMPLETED, -1),  # created before the period
    }
    for hid, (location, qty, status, hours) in made.items():
        new = replace(hold(hid, qty=qty, location=location), created_at=BASE + hours * H)
        assert await inventory.create_hold(new)
        if status in (HoldStatus.COMPLETED, HoldStatus.SETTLED):
            assert await inventory.complete_hold(hid, at=BASE + hours * H)
        if status in (HoldStatus.EXPIRED, HoldStatus.RELEASED, HoldStatus.SETTLED):
            assert await inventory.finish_hold(hid, status)

    a, b = await inventory.hold_figures(BASE, BASE + 4 * H)
    # loc-a: h1..h5, units 2+1+3+1+2 = 9; completed h1, h5 (2+2 = 4 units picked up).
    assert a == HoldFigures("loc-a", 5, 9, 2, 1, 1, 1, 4)
    assert a.conversion_rate == pytest.approx(2 / (2 + 1 + 1))
    assert a.expiry_rate == pytest.approx(1 / 4)
    assert b == HoldFigures("loc-b", 1, 1, 0, 0, 0, 1, 0)
    assert b.conversion_rate is None
    assert b.expiry_rate is None
    assert await inventory.hold_figures(BASE, BASE + 4 * H, ["loc-b"]) == [b]
    # [+1 h, +2 h): h2, h3 at loc-a (1+3 units), h6 at loc-b.
    a1, b1 = await inventory.hold_figures(BASE + H, BASE + 2 * H)
    assert (a1.holds, a1.units, a1.expired, a1.released) == (2, 4, 1, 1)
    assert b1 == b


async def put_level(inventory: InventoryStore, location: str) -> None:
    assert await inventory.apply_stock_level(level(location=location, available=50))
