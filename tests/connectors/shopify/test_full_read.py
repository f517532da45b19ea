"""A full inventory read (warmup, reconciliation) visits every level of every item once,
in cost-sized pages, and an item named only by its id can be read on its own."""

from __future__ import annotations

import math

from connectors.capabilities import InventorySource, ItemInventorySource
from connectors.metrics import RequestCounter
from connectors.shopify import queries
from connectors.shopify.connector import BACKGROUND_SHARE
from sandboxes.demo import DemoWorld
from tests.connectors.shopify.conftest import MakeConnector, StartShop

FAST = {"restore_rate": 10_000.0}


async def test_every_level_of_every_item_in_cost_sized_pages(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, copy_world=False, **FAST)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    assert isinstance(connector, InventorySource)

    pages = [page async for page in connector.list_inventory_levels()]

    levels = [level for page in pages for level in page]
    codes = {loc.code: f"shopify:{loc.shopify_location_id}" for loc in world.locations}
    by_key = {(lv.sku, lv.location_id): lv for lv in levels}
    assert len(by_key) == len(levels) == len(world.stock)
    for row in world.stock:
        level = by_key[(row.sku, codes[row.location_code])]
        assert level.quantities == row.quantities()
        assert level.updated_at == row.updated_at.replace(microsecond=0)
    variables = {"levels": len(world.locations), "names": list(connector.config.quantity_names)}
    per_page = connector._background_page_size(queries.INVENTORY_LEVELS_ALL, variables)
    assert per_page < len(world.variants)  # the read really is paged
    page_cost = connector.client.cost(
        queries.INVENTORY_LEVELS_ALL, {**variables, "first": per_page}
    )
    assert page_cost <= 1000 * BACKGROUND_SHARE
    assert counter.count("shopify", "list_inventory_levels") == math.ceil(
        len(world.variants) / per_page
    )
    assert len(pages) == math.ceil(len(world.variants) / per_page)
    assert len(connector.sku_cache) == len(world.variants)


async def test_an_item_named_by_its_id_is_read_with_all_its_levels(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, copy_world=False, **FAST)
    connector = await make_connector(shop)
    assert isinstance(connector, ItemInventorySource)
    variant = world.variants[3]
    levels = await connector.item_levels(str(variant.shopify_inventory_item_id))
    rows = [s for s in world.stock if s.sku == variant.sku]
    assert sorted(lv.quantities["available"] for lv in levels) == sorted(r.available for r in rows)
    assert {lv.sku for lv in levels} == {variant.sku}
    assert connector.sku_cache[f"gid://shopify/InventoryItem/{variant.shopify_inventory_item_id}"]
    assert await connector.item_levels("gid://shopify/InventoryItem/1") == []


async def test_a_full_read_leaves_half_the_bucket_to_others(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    """At 2,000 points/s, five pages sent back to back would drain the bucket below half;
    the read waits instead, so a 360 beside it always finds half the bucket."""
    shop = await start_shop(world, copy_world=False, restore_rate=2000.0)
    connector = await make_connector(shop)
    left: list[float] = []
    pages = 0
    async for _ in connector.list_inventory_levels():
        left.append(shop.bucket.status()["currentlyAvailable"])
        pages += 1
        if pages == 5:
            break
    assert len(left) == 5
    assert min(left) >= 500 - 1
    assert shop.bucket.counts["throttled"] == 0
