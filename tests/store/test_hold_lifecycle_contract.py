"""A pickup hold's lifecycle on every backend: completing keeps its units held until it is
settled, each move happens once however many callers race, and the listings serve the
sweeper, the settlement and ``Customer.pickupHolds``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from resolvers.model import HoldStatus
from resolvers.store import InventoryStore
from tests.store.builders import T0, hold, level


async def sellable(inventory: InventoryStore) -> int:
    [stock] = await inventory.get_stock(["SKU-1"], ["loc-a"])
    return stock.sellable_for_pickup


async def test_completion_keeps_units_held_until_settled(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=5))
    await inventory.create_hold(hold("h1", qty=2))
    completed = await inventory.complete_hold("h1", at=T0 + timedelta(minutes=1))
    assert completed is not None
    assert completed.status is HoldStatus.COMPLETED
    assert completed.available_at_completion == 5
    assert completed.completed_at == T0 + timedelta(minutes=1)
    assert await sellable(inventory) == 3  # still held: not sellable twice
    assert await inventory.complete_hold("h1", at=T0) is None  # only once
    assert await inventory.finish_hold("h1", HoldStatus.RELEASED) is None  # no longer active
    assert await inventory.finish_hold("h1", HoldStatus.EXPIRED) is None

    # The vendor's count takes the sale: available drops by 2, the hold still holds 2.
    await inventory.apply_stock_level(level(available=3, at=T0 + timedelta(minutes=2)))
    assert await sellable(inventory) == 1
    settled = await inventory.finish_hold("h1", HoldStatus.SETTLED)
    assert settled is not None
    assert settled.hold.status is HoldStatus.SETTLED
    assert settled.change is not None
    assert settled.change.cause == "settlement"
    assert await sellable(inventory) == 3
    assert await inventory.finish_hold("h1", HoldStatus.SETTLED) is None


async def test_an_active_hold_cannot_be_settled(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=5))
    await inventory.create_hold(hold("h1", qty=2))
    assert await inventory.finish_hold("h1", HoldStatus.SETTLED) is None
    assert await sellable(inventory) == 3
    with pytest.raises(ValueError, match="cannot be finished"):
        await inventory.finish_hold("h1", HoldStatus.COMPLETED)
    with pytest.raises(ValueError, match="cannot be finished"):
        await inventory.finish_hold("h1", HoldStatus.ACTIVE)


async def test_complete_release_and_expiry_race_moves_units_once(
    inventory: InventoryStore,
) -> None:
    await inventory.apply_stock_level(level(available=4))
    for n in range(5):
        await inventory.apply_stock_level(level(available=4, at=T0 + timedelta(seconds=n + 1)))
    await inventory.create_hold(hold("h1", qty=3))
    completions, releases, expiries = await asyncio.gather(
        asyncio.gather(*(inventory.complete_hold("h1", at=T0) for _ in range(4))),
        asyncio.gather(*(inventory.finish_hold("h1", HoldStatus.RELEASED) for _ in range(4))),
        asyncio.gather(*(inventory.finish_hold("h1", HoldStatus.EXPIRED) for _ in range(4))),
    )
    moved = [c for c in completions if c] + [r for r in (*releases, *expiries) if r]
    assert len(moved) == 1
    stored = await inventory.get_hold("h1")
    assert stored is not None
    if stored.status is HoldStatus.COMPLETED:
        assert await sellable(inventory) == 1
    else:
        assert await sellable(inventory) == 4


async def test_listings(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=20))
    await inventory.apply_stock_level(level(location="loc-b", available=20))
    for n in range(4):
        created = replace(hold(f"h{n}"), created_at=T0 + timedelta(minutes=n))
        await inventory.create_hold(created)
    await inventory.create_hold(replace(hold("other", location="loc-b"), customer_id="cus_2"))
    mine = await inventory.holds_for_customer("cus_1")
    assert [h.id for h in mine] == ["h3", "h2", "h1", "h0"]
    assert [h.id for h in await inventory.holds_for_customer("cus_1", limit=2)] == ["h3", "h2"]
    assert await inventory.holds_for_customer("nobody") == []

    await inventory.complete_hold("h2", at=T0 + timedelta(minutes=10))
    await inventory.complete_hold("h0", at=T0 + timedelta(minutes=5))
    await inventory.complete_hold("other", at=T0 + timedelta(minutes=1))
    assert [h.id for h in await inventory.completed_holds("SKU-1", "loc-a")] == ["h0", "h2"]
    due = await inventory.unsettled_holds(T0 + timedelta(minutes=6))
    assert [h.id for h in due] == ["other", "h0"]
    assert [h.id for h in await inventory.unsettled_holds(T0 + timedelta(hours=1), limit=1)] == [
        "other"
    ]
    await inventory.finish_hold("h0", HoldStatus.SETTLED)
    assert [h.id for h in await inventory.completed_holds("SKU-1", "loc-a")] == ["h2"]
