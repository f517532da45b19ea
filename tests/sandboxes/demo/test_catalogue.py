"""Locations, products and stock: fixed facts with vendor-style ids and coherent quantities."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from connectors.records import LocationKind
from sandboxes.demo import DEMO_NOW, DemoWorld, PosSystem

#: Rough bounding boxes of the cities the stores are in (lat min, lat max, lng min, lng max).
CITY_BOXES = {
    "Brooklyn": (40.57, 40.74, -74.05, -73.83),
    "New York": (40.70, 40.88, -74.02, -73.91),
    "Boston": (42.33, 42.40, -71.13, -71.00),
    "Philadelphia": (39.87, 40.14, -75.28, -74.96),
    "Chicago": (41.64, 42.02, -87.94, -87.52),
    "Washington": (38.79, 39.00, -77.12, -76.91),
    "Secaucus": (40.76, 40.81, -74.09, -74.03),
}


def test_locations_are_stores_plus_one_warehouse(world: DemoWorld) -> None:
    kinds = Counter(loc.kind for loc in world.locations)
    assert kinds[LocationKind.STORE] >= 5
    assert kinds[LocationKind.WAREHOUSE] == 1
    assert len({loc.code for loc in world.locations}) == len(world.locations)
    for loc in world.locations:
        assert loc.address.line1
        assert loc.address.country_code == "US"
        assert re.fullmatch(r"\d{5}", loc.address.postal_code or "")
        assert re.fullmatch(r"[A-Z]{2}", loc.address.region or "")
        lat_min, lat_max, lng_min, lng_max = CITY_BOXES[loc.address.city or ""]
        assert lat_min <= loc.latitude <= lat_max, loc.code
        assert lng_min <= loc.longitude <= lng_max, loc.code
        assert loc.timezone.startswith("America/")
        assert loc.email.endswith("@" + world.retailer_domain)


def test_pickup_fulfilment_and_pos_flags(world: DemoWorld) -> None:
    warehouse = next(loc for loc in world.locations if loc.kind is LocationKind.WAREHOUSE)
    assert not warehouse.pickup_enabled
    assert warehouse.fulfils_online
    assert warehouse.pos is None
    assert all(store.pickup_enabled for store in world.stores)
    assert sum(store.fulfils_online for store in world.stores) >= 2
    square = world.stores_running(PosSystem.SQUARE)
    shopify_pos = world.stores_running(PosSystem.SHOPIFY_POS)
    assert len(square) == 2
    assert len(shopify_pos) == len(world.stores) - 2


def test_location_vendor_ids(world: DemoWorld) -> None:
    shopify_ids = [loc.shopify_location_id for loc in world.locations]
    assert len(set(shopify_ids)) == len(shopify_ids)
    assert all(len(str(i)) == 11 for i in shopify_ids)
    for loc in world.locations:
        if loc.pos is PosSystem.SQUARE:
            assert loc.square_location_id is not None
            assert re.fullmatch(r"L[A-Z0-9]{12}", loc.square_location_id)
            assert world.locations_by_square_id[loc.square_location_id] is loc
        else:
            assert loc.square_location_id is None
        assert world.locations_by_shopify_id[loc.shopify_location_id] is loc


def upc_check_ok(code: str) -> bool:
    digits = [int(d) for d in code]
    return (sum(digits[0:11:2]) * 3 + sum(digits[1:11:2]) + digits[11]) % 10 == 0


def test_products_and_variants(world: DemoWorld) -> None:
    assert len(world.products) == 40
    variants = world.variants
    assert all(1 <= len(p.variants) <= 4 for p in world.products)
    skus = [v.sku for v in variants]
    assert len(set(skus)) == len(skus)
    assert "TEE-ORG-BLK-M" in skus
    for product in world.products:
        assert world.products_by_shopify_id[product.shopify_product_id] is product
        assert re.fullmatch(r"[A-Z0-9]{24}", product.square_item_id)
        for v in product.variants:
            assert re.fullmatch(r"[A-Z]{3}-[A-Z]{3}(-[A-Z0-9]+)+", v.sku)
            assert v.sku.startswith(product.code + "-")
            assert len(v.options) == len(product.option_names)
            assert v.title == " / ".join(v.options)
            assert v.price > 0
            assert v.price.as_tuple().exponent == -2
            assert len(v.barcode) == 12
            assert upc_check_ok(v.barcode)
            assert len(str(v.shopify_inventory_item_id)) == 18
            assert re.fullmatch(r"[A-Z0-9]{24}", v.square_variation_id)
    for ids in (
        [v.barcode for v in variants],
        [v.shopify_variant_id for v in variants],
        [v.shopify_inventory_item_id for v in variants],
        [v.square_variation_id for v in variants],
    ):
        assert len(set(ids)) == len(ids)
    assert world.variants_by_inventory_item_id[variants[0].shopify_inventory_item_id].sku == skus[0]


def test_stock_rows_are_complete_and_coherent(world: DemoWorld) -> None:
    assert len(world.stock) == len(world.variants) * len(world.locations)
    assert len(world.stock_by_key) == len(world.stock)
    for level in world.stock:
        q = level.quantities()
        assert set(q) == {
            "available",
            "on_hand",
            "committed",
            "reserved",
            "incoming",
            "safety_stock",
        }
        assert all(value >= 0 for value in q.values())
        assert level.on_hand >= level.available + level.committed + level.reserved
        assert level.updated_at <= DEMO_NOW


def test_stock_has_sold_out_and_last_unit_rows_at_pickup_stores(world: DemoWorld) -> None:
    store_rows = [s for s in world.stock if world.locations_by_code[s.location_code].pickup_enabled]
    assert sum(s.available == 0 for s in store_rows) >= 10
    assert sum(1 <= s.available <= 2 for s in store_rows) >= 10
    warehouse_rows = [s for s in world.stock if s.location_code == "WHS"]
    assert sum(s.available for s in warehouse_rows) > sum(s.available for s in store_rows) / 6


def test_planted_stock_scenarios(world: DemoWorld) -> None:
    scenarios = world.quirks.stock
    last = world.stock_by_key[scenarios.last_unit]
    assert (last.available, last.safety_stock, last.sellable) == (1, 0, 1)
    assert world.locations_by_code[last.location_code].pickup_enabled
    gone = world.stock_by_key[scenarios.out_of_stock]
    assert (gone.available, gone.on_hand, gone.incoming) == (0, 0, 0)
    held = world.stock_by_key[scenarios.held_back_by_safety_stock]
    assert held.available == 2
    assert held.sellable == 0


def test_adjust_stock_keeps_quantities_coherent() -> None:
    from sandboxes.demo import generate

    w = generate(people=40, seed=1)
    sku, code = w.quirks.stock.last_unit
    level = w.adjust_stock(sku, code, -1, DEMO_NOW)
    assert (level.available, level.on_hand, level.updated_at) == (0, 0, DEMO_NOW)
    with pytest.raises(ValueError, match="only 0"):
        w.adjust_stock(sku, code, -1, DEMO_NOW)
    w.adjust_stock(sku, code, 5, DEMO_NOW)
    w.adjust_stock(sku, code, 2, DEMO_NOW, field_name="committed")
    assert (level.available, level.committed, level.on_hand) == (3, 2, 5)
