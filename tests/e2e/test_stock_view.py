"""Reading stock and locations over the whole stack: the demo's sandboxes, the gateway's
catalog refresh at start-up, and the store holding the levels (planted here as the warmup
would, through ``store_level``, so this module does not depend on when the warmup runs)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from connectors.shopify.ids import location_id
from gateway.examples import load_examples
from resolvers.model import StockLevel
from resolvers.stock.levels import store_level
from resolvers.stock.nearby import Point, haversine_km
from sandboxes.demo import DemoWorld
from tests.e2e.conftest import Demo, boot
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

SOHO = {"lat": 40.72490, "lng": -73.99870}


def unified(world: DemoWorld, code: str) -> str:
    return location_id(world.locations_by_code[code].shopify_location_id)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Demo]:
    async for stack in boot():
        await stack.app.state.catalog_ready.wait()
        services = stack.app.state.services
        for row in stack.world.stock:
            level = StockLevel(
                sku=row.sku,
                location_id=unified(stack.world, row.location_code),
                quantities={k: v for k, v in row.quantities().items() if k != "safety_stock"},
                updated_at=row.updated_at,
            )
            await store_level(services, level, cause="warmup")
        yield stack


async def q(demo: Demo, document: str, /, token: str = "demo-storefront", **variables: Any) -> Any:
    body = await demo.gql(document, token=token, variables=variables)
    assert "errors" not in body, body
    return body["data"]


LOCATIONS = """
query($near: GeoPointInput, $radius: Float, $pickup: Boolean! = false, $first: Int! = 50) {
  locations(near: $near, radiusKm: $radius, pickupOnly: $pickup, first: $first) {
    id name kind pickupEnabled pickupLeadTimeMinutes timezone phone latitude longitude
    distanceKm address { city }
  }
}
"""


async def test_locations_near_a_point_nearest_first(demo: Demo) -> None:
    found = (await q(demo, LOCATIONS, near=SOHO))["locations"]
    by_code = {loc.name: loc.code for loc in demo.world.locations}
    # SoHo itself, Williamsburg across the river, the Secaucus warehouse, then the cities.
    assert [by_code[f["name"]] for f in found] == ["SOH", "BKN", "WHS", "PHL", "BOS", "DCA", "CHI"]
    distances = [f["distanceKm"] for f in found]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(0.0, abs=0.01)
    for f in found:
        here = Point(f["latitude"], f["longitude"])
        assert f["distanceKm"] == pytest.approx(haversine_km(Point(**SOHO), here), abs=0.001)
    # Known straight-line distances from lower Manhattan: Philadelphia ~130 km, Boston
    # ~305 km, Chicago ~1,145 km.
    assert distances[3] == pytest.approx(130, rel=0.02)
    assert distances[4] == pytest.approx(305, rel=0.02)
    assert distances[6] == pytest.approx(1145, rel=0.01)


async def test_radius_pickup_and_first_filter(demo: Demo) -> None:
    near = (await q(demo, LOCATIONS, near=SOHO, radius=10.0))["locations"]
    assert [f["kind"] for f in near] == ["STORE", "STORE", "WAREHOUSE"]
    pickup = (await q(demo, LOCATIONS, near=SOHO, radius=10.0, pickup=True))["locations"]
    assert len(pickup) == 2
    assert all(f["pickupEnabled"] for f in pickup)
    first = (await q(demo, LOCATIONS, near=SOHO, first=1))["locations"]
    assert [f["id"] for f in first] == [unified(demo.world, "SOH")]
    without = (await q(demo, LOCATIONS))["locations"]
    assert all(f["distanceKm"] is None for f in without)
    assert len(without) == len(demo.world.locations)


async def test_a_store_running_shopify_and_square_is_one_location(demo: Demo) -> None:
    found = (await q(demo, LOCATIONS))["locations"]
    ids = [f["id"] for f in found]
    assert len(ids) == len(set(ids)) == len(demo.world.locations)
    assert not [i for i in ids if i.startswith("square:")]
    square_store = next(loc for loc in demo.world.locations if loc.square_location_id)
    merged = next(f for f in found if f["id"] == unified(demo.world, square_store.code))
    # Shopify's description wins (address, pickup), Square's adds the time zone.
    assert merged["timezone"] == square_store.timezone
    assert merged["pickupEnabled"] is True
    assert merged["address"]["city"] == square_store.address.city


async def test_pickup_lead_time_comes_from_shopify_pickup_time(demo: Demo) -> None:
    found = {f["id"]: f for f in (await q(demo, LOCATIONS))["locations"]}
    minutes = {"ONE_HOUR": 60, "TWO_HOURS": 120, "FOUR_HOURS": 240}
    for loc in demo.world.locations:
        got = found[unified(demo.world, loc.code)]["pickupLeadTimeMinutes"]
        assert got == (minutes[loc.pickup_time] if loc.pickup_enabled else None), loc.code
    assert {f["pickupLeadTimeMinutes"] for f in found.values()} >= {60, 120, 240}


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"near": {"lat": 91, "lng": 0}}, "near.lat"),
        ({"near": {"lat": 0, "lng": -180.5}}, "near.lng"),
        ({"near": SOHO, "radius": 0.0}, "radiusKm"),
        ({"radius": 5.0}, "radiusKm"),
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
    ],
)
async def test_bad_location_arguments(demo: Demo, variables: dict[str, Any], argument: str) -> None:
    body = await demo.gql(LOCATIONS, token="demo-storefront", variables=variables)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == argument


VARIANTS = """
query($query: String, $first: Int! = 20, $after: String) {
  productVariants(query: $query, first: $first, after: $after) {
    edges { cursor node { sku title price { amount currencyCode } totalAvailable } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_variants_by_sku_or_title_prefix_in_keyset_pages(demo: Demo) -> None:
    world = demo.world
    expected = sorted(v.sku for v in world.variants_by_sku.values() if v.sku.startswith("TEE-"))
    got: list[str] = []
    after = None
    while True:
        page = (await q(demo, VARIANTS, query="tee-", first=3, after=after))["productVariants"]
        got.extend(e["node"]["sku"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert got == expected
    variant = world.variants_by_sku[expected[0]]
    by_title = (await q(demo, VARIANTS, query=variant.product_title.upper()))["productVariants"]
    node = next(e["node"] for e in by_title["edges"] if e["node"]["sku"] == variant.sku)
    assert node["title"] == f"{variant.product_title} - {variant.title}"
    assert node["price"] == {"amount": str(variant.price), "currencyCode": "USD"}
    everything = (await q(demo, VARIANTS, first=100))["productVariants"]["edges"]
    assert len(everything) == min(100, len(world.variants_by_sku))


async def test_variant_stock_near_me(demo: Demo) -> None:
    world = demo.world
    sku, code = world.quirks.stock.last_unit
    data = await q(
        demo,
        """query($sku: String!, $near: GeoPointInput) {
          productVariant(sku: $sku) {
            sku totalAvailable
            stock(near: $near, pickupOnly: true) {
              locationId available sellableForPickup distanceKm version
              location { id name pickupEnabled }
            }
            pickupLocations(near: $near) { id distanceKm }
          }
        }""",
        sku=sku,
        near=SOHO,
    )
    variant = data["productVariant"]
    rows = [s for s in world.stock if s.sku == sku]
    assert variant["totalAvailable"] == sum(max(0, s.available) for s in rows)
    stock = variant["stock"]
    assert [s["distanceKm"] for s in stock] == sorted(s["distanceKm"] for s in stock)
    assert all(s["location"]["pickupEnabled"] for s in stock)
    assert all(s["location"]["id"] == s["locationId"] for s in stock)
    at = next(s for s in stock if s["locationId"] == unified(world, code))
    assert at["sellableForPickup"] == 1
    sellable = [s["locationId"] for s in stock if s["sellableForPickup"] > 0]
    assert [p["id"] for p in variant["pickupLocations"]] == sellable


async def test_stock_of_many_skus_and_the_sku_cap(demo: Demo) -> None:
    world = demo.world
    skus = sorted(world.variants_by_sku)[:3]
    here = [unified(world, "SOH"), unified(world, "BKN")]
    data = await q(
        demo,
        "query($skus: [String!]!, $ids: [ID!]) { stock(skus: $skus, locationIds: $ids) "
        "{ sku locationId available distanceKm } }",
        skus=skus,
        ids=here,
    )
    expected = sorted(
        (s.sku, unified(world, s.location_code), s.available)
        for s in world.stock
        if s.sku in skus and unified(world, s.location_code) in here
    )
    assert [(s["sku"], s["locationId"], s["available"]) for s in data["stock"]] == expected
    too_many = await demo.gql(
        "query($skus: [String!]!) { stock(skus: $skus) { sku } }",
        token="demo-storefront",
        variables={"skus": [f"SKU-{i}" for i in range(101)]},
    )
    assert codes(too_many) == ["BAD_USER_INPUT"]


async def test_reads_make_no_upstream_call_and_one_store_call_per_page(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """query($near: GeoPointInput) {
      locations(near: $near) { id distanceKm }
      productVariants(first: 25) { edges { node {
        sku title totalAvailable
        stock(near: $near) { available sellableForPickup location { name } }
        pickupLocations(near: $near) { id }
      } } }
    }"""
    await q(demo, query, near=SOHO)  # the location directory is cached from here on
    inventory = demo.app.state.services.store.inventory
    calls: list[int] = []
    real = inventory.get_stock

    async def counted(skus: Any, location_ids: Any = None) -> Any:
        calls.append(len(skus))
        return await real(skus, location_ids)

    monkeypatch.setattr(inventory, "get_stock", counted)
    before = demo.calls()
    data = await q(demo, query, near=SOHO)
    assert demo.calls() == before
    assert len(data["productVariants"]["edges"]) == 25
    assert calls == [25]


async def test_who_may_read(demo: Demo) -> None:
    query = "{ locations(first: 1) { id } productVariants(first: 1) { edges { cursor } } }"
    for token in ("demo-storefront", "demo-staff", "demo-staff-store", "demo-internal"):
        await q(demo, query, token=token)
    anonymous = await demo.gql(query, token=None)
    assert set(codes(anonymous)) == {"UNAUTHENTICATED"}


async def test_variant_and_location_are_federation_entities(demo: Demo) -> None:
    sku = sorted(demo.world.variants_by_sku)[0]
    loc = unified(demo.world, "BKN")
    data = await q(
        demo,
        "query($reps: [_Any!]!) { _entities(representations: $reps) { "
        "... on ProductVariant { sku title } ... on Location { id name } } }",
        reps=[
            {"__typename": "ProductVariant", "sku": sku},
            {"__typename": "Location", "id": loc},
            {"__typename": "ProductVariant", "sku": "NO-SUCH-SKU"},
        ],
    )
    first, second, missing = data["_entities"]
    assert first["sku"] == sku
    assert first["title"]
    assert second == {"id": loc, "name": demo.world.locations_by_code["BKN"].name}
    assert missing is None


async def test_the_catalog_map_joins_both_vendors_on_the_sku(demo: Demo) -> None:
    """Built at start-up from Shopify's productVariants and Square's catalog items."""
    catalog = demo.app.state.services.store.catalog
    variants = list(demo.world.variants_by_sku.values())
    assert await catalog.count_entries() == len(variants)
    v = variants[0]
    (entry,) = await catalog.get_entries([v.sku])
    assert entry.refs == {
        "shopify.variant": f"gid://shopify/ProductVariant/{v.shopify_variant_id}",
        "shopify.inventory_item": f"gid://shopify/InventoryItem/{v.shopify_inventory_item_id}",
        "square.variation": v.square_variation_id,
    }
    square_ids = [x.square_variation_id for x in variants]
    assert await catalog.skus_for_refs("square.variation", square_ids) == {
        x.square_variation_id: x.sku for x in variants
    }


async def test_the_in_stock_near_me_example_finds_stores_near_washington_square(
    demo: Demo,
) -> None:
    (example,) = [e for e in load_examples() if e.name == "4-in-stock-near-me"]
    assert example.token == "demo-storefront"
    assert example.variables is not None
    variables = json.loads(example.variables)
    data = await q(demo, example.query, token=example.token, **variables)
    variant = data["productVariant"]
    assert variant["sku"] == variables["sku"]
    stock = variant["stock"]
    assert stock, "the demo stocks TEE-ORG-BLK-M in Manhattan and Brooklyn"
    assert {s["location"]["id"] for s in stock} <= {
        unified(demo.world, "SOH"),
        unified(demo.world, "BKN"),
    }
    assert all(s["distanceKm"] <= variables["radiusKm"] for s in stock)
    assert [s["distanceKm"] for s in stock] == sorted(s["distanceKm"] for s in stock)
    names = [loc["name"] for loc in data["locations"]]
    assert names == [demo.world.locations_by_code[c].name for c in ("SOH", "BKN")]


async def test_webhook_parsers_read_the_one_map_not_their_own(demo: Demo) -> None:
    """Neither connector reads a SKU map of its own at start: both are handed the catalog
    map, so a Shopify inventory webhook's item and a Square count's variation resolve
    without a read."""
    from connectors.records import Source

    connectors = demo.app.state.services.connectors
    shopify, square = connectors.get(Source("shopify")), connectors.get(Source("square"))
    variants = list(demo.world.variants_by_sku.values())
    for v in variants:
        item = f"gid://shopify/InventoryItem/{v.shopify_inventory_item_id}"
        assert shopify.sku_cache.get(item) == v.sku
        assert square.catalog.sku_of(v.square_variation_id) == v.sku
    # What built them: the catalog refresh, not a warm-up of their own.
    assert demo.app.state.counter.count(operation="inventory_item_skus") == 0
