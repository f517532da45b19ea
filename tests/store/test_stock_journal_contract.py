"""The stock journal and level versions, on every backend: each write to a level is one
journal entry with a store-wide ``seq`` in commit order, and the level's ``version`` grows
with every write, whoever made it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from resolvers.model import HoldStatus
from resolvers.store import InventoryStore
from resolvers.store.errors import CursorExpired
from tests.store.builders import T0, hold, level


async def test_every_write_is_journalled_with_a_growing_version(inventory: InventoryStore) -> None:
    assert await inventory.last_seq() == 0
    applied = await inventory.apply_stock_level(level(available=5), cause="warmup")
    held = await inventory.create_hold(hold("h1", qty=2))
    assert held is not None
    released = await inventory.finish_hold("h1", HoldStatus.RELEASED)
    assert released is not None
    safety = await inventory.set_safety_stock("SKU-1", "loc-a", 1)
    assert await inventory.set_safety_stock("SKU-1", "loc-a", 1) is None  # no change
    assert await inventory.set_safety_stock("SKU-1", "nowhere", 1) is None

    changes = [applied, held.change, released.change, safety]
    assert all(c is not None for c in changes)
    assert [c.cause for c in changes if c] == ["warmup", "hold", "release", "safety_stock"]
    assert [c.level.version for c in changes if c] == [1, 2, 3, 4]
    assert [c.level.held for c in changes if c] == [0, 2, 0, 0]
    assert [c.seq for c in changes if c] == [1, 2, 3, 4]
    assert await inventory.last_seq() == 4

    journal = await inventory.changes_since(0)
    assert journal == changes
    [stock] = await inventory.get_stock(["SKU-1"])
    assert stock.version == 4
    assert stock.safety_stock == 1
    assert stock.updated_at == T0  # a setting is not a vendor fact


async def test_refused_writes_journal_nothing(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=1))
    assert await inventory.apply_stock_level(level(available=9)) is None  # same timestamp
    assert await inventory.create_hold(hold("h1", qty=2)) is None  # not enough
    assert await inventory.finish_hold("missing", HoldStatus.RELEASED) is None
    assert await inventory.last_seq() == 1
    [stock] = await inventory.get_stock(["SKU-1"])
    assert stock.version == 1


async def test_changes_since_filters_and_pages(inventory: InventoryStore) -> None:
    for n in range(1, 4):
        for sku in ("A", "B"):
            for location in ("l1", "l2"):
                at = T0 + timedelta(seconds=n)
                await inventory.apply_stock_level(level(sku, location, available=n, at=at))
    assert await inventory.last_seq() == 12
    only_a = await inventory.changes_since(0, skus=["A"])
    assert [(c.level.sku, c.level.location_id, c.seq) for c in only_a][:2] == [
        ("A", "l1", 1),
        ("A", "l2", 2),
    ]
    assert len(only_a) == 6
    a_l2 = await inventory.changes_since(2, skus=["A"], location_ids=["l2"])
    assert [c.seq for c in a_l2] == [6, 10]
    page = await inventory.changes_since(3, limit=4)
    assert [c.seq for c in page] == [4, 5, 6, 7]
    assert await inventory.changes_since(12) == []


async def test_an_unknown_cursor_is_refused(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level())
    with pytest.raises(CursorExpired):
        await inventory.changes_since(5)
    with pytest.raises(CursorExpired):
        await inventory.changes_since(-1)


async def test_concurrent_writes_get_distinct_gapless_seqs(inventory: InventoryStore) -> None:
    await inventory.apply_stock_level(level(available=30))
    holds, levels = await asyncio.gather(
        asyncio.gather(*(inventory.create_hold(hold(f"h{n}")) for n in range(12))),
        asyncio.gather(
            *(
                inventory.apply_stock_level(level("B", available=n, at=T0 + timedelta(seconds=n)))
                for n in range(1, 6)
            )
        ),
    )
    changes = [w.change for w in holds if w is not None] + list(levels)
    seqs = sorted(c.seq for c in changes if c is not None)
    last = await inventory.last_seq()
    assert len(seqs) == len(set(seqs))
    assert len(seqs) >= 13  # every hold and at least the newest level landed
    journal = await inventory.changes_since(0)
    assert [c.seq for c in journal] == list(range(1, last + 1))
    assert set(seqs) <= {c.seq for c in journal}
    # Replaying the journal for a level ends at the level as stored.
    [stock] = await inventory.get_stock(["SKU-1"])
    sku1 = [c for c in journal if c.level.sku == "SKU-1"]
    assert sku1[-1].level == stock
    assert [c.level.version for c in sku1] == list(range(1, len(sku1) + 1))
