"""The :class:`~resolvers.store.InventoryStore` contract: stock levels and the holds reserved
against them, on every backend (see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from connectors.records import Source
from resolvers.model import HoldStatus, HoldWrite, StockLevel
from resolvers.store import InventoryStore
from tests.store.builders import T0, hold, level


async def held(inventory: InventoryStore, sku: str = "SKU-1", location: str = "loc-a") -> int:
    [stock] = await inventory.get_stock([sku], [location])
    return stock.held


async def test_newer_stock_applies_and_older_is_refused(inventory: InventoryStore) -> None:
    assert await inventory.apply_stock_level(level(available=5, at=T0)) is not None
    assert (
        await inventory.apply_stock_level(level(available=1, at=T0 - timedelta(seconds=1))) is None
    )
    applied = await inventory.apply_stock_level(level(available=8, at=T0 + timedelta(seconds=1)))
    assert applied is not None
    assert applied.level.quantities["available"] == 8
    assert applied.level.version == 2
    assert (
        await inventory.apply_stock_level(level(available=2, at=T0 + timedelta(seconds=1))) is None
    )
    [stock] = await inventory.get_stock(["SKU-1"])
    assert stock.quantities["available"] == 8
    assert stock.updated_at == T0 + timedelta(seconds=1)
    assert stock.source is Source("shopify")


async def test_a_partial_level_keeps_the_other_quantities(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=5, safety=2, at=T0))
    only_available = StockLevel(
        sku="SKU-1",
        location_id="loc-a",
        quantities={"available": 3},
        updated_at=T0 + timedelta(seconds=1),
        source=Source("shopify"),
    )
    assert await inventory.apply_stock_level(only_available) is not None
    [stock] = await inventory.get_stock(["SKU-1"])
    assert stock.quantities == {"available": 3, "on_hand": 5, "safety_stock": 2}
    assert stock.sellable == 1


async def test_concurrent_stock_events_keep_the_newest(inventory: InventoryStore) -> None:
    levels = [level(available=n, at=T0 + timedelta(seconds=n)) for n in range(1, 21)]
    results = await asyncio.gather(*(inventory.apply_stock_level(lv) for lv in reversed(levels)))
    assert results[0] is not None  # the newest always lands
    [stock] = await inventory.get_stock(["SKU-1"])
    assert stock.quantities["available"] == 20


async def test_get_stock_filters_by_sku_and_location(inventory: InventoryStore) -> None:
    for sku in ("A", "B"):
        for location in ("l1", "l2"):
            await inventory.apply_stock_level(level(sku, location))
    got = await inventory.get_stock(["B", "A", "C"])
    assert [(s.sku, s.location_id) for s in got] == [
        ("A", "l1"),
        ("A", "l2"),
        ("B", "l1"),
        ("B", "l2"),
    ]
    assert [(s.sku, s.location_id) for s in await inventory.get_stock(["A"], ["l2"])] == [
        ("A", "l2")
    ]
    assert await inventory.get_stock([]) == []
    assert await inventory.get_stock(["A"], []) == []


async def test_held_survives_level_updates(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=5, safety=1, at=T0))
    assert await inventory.create_hold(hold("h1", qty=2)) is not None
    assert await inventory.apply_stock_level(
        level(available=9, safety=1, at=T0 + timedelta(hours=1))
    )
    [stock] = await inventory.get_stock(["SKU-1"], ["loc-a"])
    assert stock.held == 2
    assert stock.sellable == 9 - 1 - 2


async def test_concurrent_holds_never_oversell(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=7, safety=2))  # 5 sellable
    results = await asyncio.gather(*(inventory.create_hold(hold(f"h{n}")) for n in range(20)))
    winners = [w.hold for w in results if w is not None]
    assert len(winners) == 5
    assert len({h.id for h in winners}) == 5
    assert await held(inventory) == 5
    assert await inventory.create_hold(hold("late")) is None
    assert (await inventory.get_stock(["SKU-1"]))[0].sellable == 0


async def test_two_shoppers_for_the_last_unit(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=1))
    a, b = await asyncio.gather(
        inventory.create_hold(hold("ha")), inventory.create_hold(hold("hb"))
    )
    assert (a is None) != (b is None)
    assert await held(inventory) == 1


async def test_hold_needs_stock(inventory: InventoryStore) -> None:
    assert await inventory.create_hold(hold("h1", sku="UNKNOWN")) is None
    await inventory.apply_stock_level(level(available=2))
    assert await inventory.create_hold(hold("h2", qty=3)) is None
    assert await held(inventory) == 0
    assert await inventory.get_hold("h2") is None


async def test_idempotency_key_returns_the_same_hold(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=10))
    first = await inventory.create_hold(hold("h1", qty=2, key="cart-42"))
    assert first is not None
    assert first.change is not None
    again = await inventory.create_hold(hold("h2", qty=2, key="cart-42"))
    assert again == HoldWrite(first.hold, None)
    assert await held(inventory) == 2

    racing = await asyncio.gather(
        *(inventory.create_hold(hold(f"r{n}", key="cart-7")) for n in range(8))
    )
    assert all(h is not None for h in racing)
    assert len({w.hold.id for w in racing if w is not None}) == 1
    assert sum(w.change is not None for w in racing if w is not None) == 1
    assert await held(inventory) == 3
    assert await inventory.get_hold("h2") is None

    # A retried request (same hold id, no key) is the same hold, even once stock ran out.
    solo = await inventory.create_hold(hold("solo"))
    assert solo is not None
    await inventory.apply_stock_level(level(available=4, at=T0 + timedelta(hours=1)))
    assert (await inventory.get_stock(["SKU-1"]))[0].sellable == 0
    assert await inventory.create_hold(hold("solo")) == HoldWrite(solo.hold, None)
    assert await inventory.create_hold(hold("h1", qty=2, key="cart-42")) == again
    assert await inventory.create_hold(hold("other")) is None
    assert await held(inventory) == 4


async def test_finishing_twice_gives_units_back_once(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=3))
    created = await inventory.create_hold(hold("h1", qty=2))
    assert created is not None
    assert created.hold.expires_at.tzinfo is not None

    results = await asyncio.gather(
        *(inventory.finish_hold("h1", HoldStatus.RELEASED) for _ in range(5)),
        inventory.finish_hold("h1", HoldStatus.EXPIRED),
    )
    finished = [r.hold for r in results if r is not None]
    assert len(finished) == 1
    assert finished[0].status in (HoldStatus.RELEASED, HoldStatus.EXPIRED)
    assert finished[0].finished_at is not None
    assert await held(inventory) == 0
    assert await inventory.finish_hold("h1", HoldStatus.EXPIRED) is None
    assert await held(inventory) == 0
    stored = await inventory.get_hold("h1")
    assert stored is not None
    assert stored.status == finished[0].status
    assert await inventory.finish_hold("missing", HoldStatus.RELEASED) is None


async def test_expired_holds(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=10))
    for n, minutes in enumerate([5, -10, -1, -30, 0]):
        await inventory.create_hold(hold(f"h{n}", expires=T0 + timedelta(minutes=minutes)))
    await inventory.complete_hold("h3", at=T0)  # past due but no longer active

    due = await inventory.expired_holds(T0)
    assert [h.id for h in due] == ["h1", "h2", "h4"]
    assert all(h.status is HoldStatus.ACTIVE for h in due)
    assert [h.id for h in await inventory.expired_holds(T0, limit=1)] == ["h1"]
    assert await inventory.expired_holds(T0 - timedelta(hours=1)) == []
