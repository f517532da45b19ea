"""A full Square inventory read: BatchRetrieveInventoryCounts without ids, every cursor
page, SKUs from the catalog, locations through the location map."""

from __future__ import annotations

from connectors.capabilities import InventorySource, ItemInventorySource
from tests.connectors.square.conftest import MakeSquare, unified


async def test_every_count_at_every_location_across_cursor_pages(make_square: MakeSquare) -> None:
    square = await make_square(page_size_cap=7)
    world = square.world
    assert isinstance(square.connector, InventorySource)

    levels = [lv async for page in square.connector.list_inventory_levels() for lv in page]

    stores = [loc for loc in world.locations if loc.square_location_id]
    rows = [s for s in world.stock if s.location_code in {loc.code for loc in stores}]
    assert len(rows) > 7
    names = {
        loc.code: square.connector.locations.unified(str(loc.square_location_id)) for loc in stores
    }
    by_key = {(lv.sku, lv.location_id): lv for lv in levels}
    assert len(by_key) == len(levels) == len(rows)
    for row in rows:
        level = by_key[(row.sku, names[row.location_code])]
        assert level.quantities == {"available": row.available, "on_hand": row.available}
        assert level.updated_at == row.updated_at
    assert names["BKN"] == unified(world.locations_by_code["BKN"])  # mapped, as configured
    pages = [e for e in square.api_exchanges() if e.path.endswith("/batch-retrieve")]
    assert len(pages) >= len(rows) // 7
    assert all("catalog_object_ids" not in e.request for e in pages)
    assert all("location_ids" not in e.request for e in pages)
    assert pages[1].request["cursor"] == pages[0].response["cursor"]


async def test_a_variation_named_by_its_id_is_read_through_its_sku(
    make_square: MakeSquare,
) -> None:
    square = await make_square()
    assert isinstance(square.connector, ItemInventorySource)
    variant = square.world.variants[2]
    levels = await square.connector.item_levels(variant.square_variation_id)
    assert levels
    assert {lv.sku for lv in levels} == {variant.sku}
    assert await square.connector.item_levels("NO-SUCH-VARIATION") == []
