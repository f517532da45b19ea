"""The Square connector against its sandbox: capabilities, batching, mapping, location map."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import aiohttp

from connectors.capabilities import (
    Connector,
    CustomerSource,
    InventorySource,
    LocationSource,
    OrderSource,
)
from connectors.records import Channel, ConsentState, Source
from sandboxes.demo import DemoWorld
from tests.connectors.square.conftest import (
    MakeSquare,
    SquareEnv,
    location_map,
    spread_orders,
    unified,
    with_customers,
    with_square_stores,
)


async def test_implements_the_capabilities(square: SquareEnv) -> None:
    connector = square.connector
    for capability in (Connector, CustomerSource, OrderSource, LocationSource, InventorySource):
        assert isinstance(connector, capability), capability.__name__
    assert connector.source is Source("square")
    assert connector.circuit_state() == "closed"
    assert connector.webhooks is not None


async def test_no_signature_key_means_no_webhook_endpoint(make_square: MakeSquare) -> None:
    env = await make_square(webhook_signature_key=None)
    assert env.connector.webhooks is None


async def test_sends_bearer_token_and_square_version(make_square: MakeSquare) -> None:
    default = await make_square()
    await default.connector.list_locations()
    (exchange,) = default.api_exchanges()
    assert exchange.headers["Authorization"] == f"Bearer {default.sandbox.access_token}"
    assert exchange.headers["Square-Version"] == "2025-08-20"
    pinned = await make_square(square_version="2025-10-16")  # the setting
    await pinned.connector.list_locations()
    assert pinned.sandbox.versions_seen == {"2025-10-16": 1}


# --- customers ------------------------------------------------------------------------------------


async def test_300_customers_by_id_take_3_calls(
    make_square: MakeSquare, base_world: DemoWorld
) -> None:
    world, ids = with_customers(base_world, 300)
    env = await make_square(world=world)
    asked = [*ids[:299], "NOT0A0REAL0CUSTOMER0ID0000"]  # 300 ids, one unknown
    found = await env.connector.get_customers(asked)
    assert set(found) == set(ids[:299])
    assert env.calls("customers.bulk_retrieve") == 3
    assert env.calls() == 3
    record = found[ids[7]]
    assert record.source is Source("square")
    assert record.first_name == "Test7"
    assert record.emails == ("test.customer7@example.com",)


async def test_customer_mapping_keeps_raw_contact_and_consent(square: SquareEnv) -> None:
    quirk = square.world.quirks.upper_case_email[0]
    found = await square.connector.get_customers([quirk.square_customer_id])
    record = found[quirk.square_customer_id]
    truth = square.world.square_customers_by_id[quirk.square_customer_id]
    assert record.emails == (quirk.pos_email,)  # upper-case, as the POS stored it
    assert record.created_at == truth.created_at
    assert record.updated_at == truth.updated_at
    expected = ConsentState.UNSUBSCRIBED if truth.email_unsubscribed else ConsentState.UNKNOWN
    assert record.email_consent is not None
    assert record.email_consent.state is expected


async def test_search_by_email_is_case_insensitive(square: SquareEnv) -> None:
    quirk = square.world.quirks.upper_case_email[0]
    results = await square.connector.search_customers(emails=[quirk.email])
    assert quirk.square_customer_id in {r.id for r in results}
    assert square.calls("customers.search") == 1


async def test_search_by_phone_in_any_local_format(square: SquareEnv) -> None:
    quirk = square.world.quirks.local_phone[0]
    # The POS stored e.g. "(212) 555-0134"; Square matches E.164, the connector converts.
    results = await square.connector.search_customers(phones=[quirk.pos_phone, quirk.e164])
    assert quirk.square_customer_id in {r.id for r in results}
    # Both spellings are one number: one call.
    assert square.calls("customers.search") == 1


async def test_search_by_name_alone_costs_nothing(square: SquareEnv) -> None:
    assert await square.connector.search_customers(name="Mar") == []
    assert square.calls() == 0


async def test_list_customers_pages_through_updated_since(make_square: MakeSquare) -> None:
    env = await make_square(page_size_cap=7)
    world = env.world
    since = world.now - timedelta(days=60)
    expected = {c.id for c in world.square_customers if c.updated_at >= since}
    pages = [page async for page in env.connector.list_customers(updated_since=since)]
    seen = [r.id for page in pages for r in page]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected
    assert env.calls("customers.search") == math.ceil(len(expected) / 7)
    for page in pages:
        stamps = [r.updated_at for r in page]
        assert stamps == sorted(stamps)  # type: ignore[type-var]


# --- orders ---------------------------------------------------------------------------------------


async def test_orders_of_25_customers_at_12_locations_take_6_calls(
    make_square: MakeSquare, base_world: DemoWorld
) -> None:
    world, ids = with_customers(with_square_stores(base_world, 12), 25)
    created = spread_orders(world, ids)
    env = await make_square(world=world)

    # Cold: the location list and the line items' SKUs are fetched once each.
    await env.connector.orders_for_customers(ids)
    assert env.calls("orders.search") == 6
    assert env.calls("locations.list") == 1
    assert env.calls("catalog.batch_retrieve") == 1
    assert env.calls() == 8
    env.counter.reset()

    orders = await env.connector.orders_for_customers(ids)

    # Warm: ceil(25 / 10) customer batches x ceil(12 / 10) location batches, nothing else.
    assert env.calls("orders.search") == 6
    assert env.calls() == 6
    assert len(await env.connector.list_locations()) == 12
    assert {o.id for found in orders.values() for o in found} == set(created)
    assert all(len(orders[i]) == 3 for i in ids)
    searches = [e for e in env.api_exchanges() if e.path == "/v2/orders/search"]
    assert len(searches) == 12
    for exchange in searches:
        filters = exchange.request["query"]["filter"]
        assert len(exchange.request["location_ids"]) <= 10
        assert len(filters["customer_filter"]["customer_ids"]) <= 10


async def test_pos_orders_are_in_store_at_the_unified_location(square: SquareEnv) -> None:
    world = square.world
    customer_id, truth = next(
        (c, orders) for c, orders in world.square_orders_by_customer.items() if len(orders) > 1
    )
    orders = (await square.connector.orders_for_customers([customer_id]))[customer_id]
    assert {o.id for o in orders} == {o.id for o in truth}
    bkn, soh = world.locations_by_code["BKN"], world.locations_by_code["SOH"]
    expected_location = {
        bkn.square_location_id: unified(bkn),
        soh.square_location_id: f"square:{soh.square_location_id}",
    }
    by_id = {o.id: o for o in truth}
    for order in orders:
        source = by_id[order.id]
        assert order.channel is Channel.IN_STORE
        assert order.source_name == "Square Point of Sale"
        assert order.location_id == expected_location[source.location_id]
        assert order.total.amount == source.total
        assert order.customer_id == customer_id
        assert [(li.sku, li.quantity, li.unit_price.amount) for li in order.line_items] == [
            (line.sku, line.quantity, line.base_price) for line in source.lines
        ]


async def test_online_source_makes_an_online_order(square: SquareEnv) -> None:
    world = square.world
    customer = world.square_customers[0]
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{square.url}/_sandbox/sale",
            json={
                "location_code": "SOH",
                "customer_id": customer.id,
                "source_name": "Square Online",
                "lines": [{"sku": _stocked_sku(square, "SOH"), "quantity": 1}],
            },
        )
        assert response.status == 201
        order_id = (await response.json())["order"]["id"]
    found = (await square.connector.get_orders([order_id]))[order_id]
    assert found.channel is Channel.ONLINE
    assert found.source_name == "Square Online"


async def test_refunds_and_returns_fold_into_the_sale(square: SquareEnv) -> None:
    world = square.world
    customer = next(c for c in world.square_customers if c.id in world.square_orders_by_customer)
    sale = world.square_orders_by_customer[customer.id][0]
    line = sale.lines[0]
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{square.url}/_sandbox/refund",
            json={"order_id": sale.id, "lines": [{"uid": line.uid, "quantity": 1}]},
        )
        assert response.status == 201, await response.text()
    orders = (await square.connector.orders_for_customers([customer.id]))[customer.id]
    # The return order Square creates is folded into the sale, not a second order.
    assert {o.id for o in orders} == {o.id for o in world.square_orders_by_customer[customer.id]}
    refunded = next(o for o in orders if o.id == sale.id)
    expected = (line.base_price * (1 + sale.tax_rate)).quantize(Decimal("0.01"))
    assert refunded.refunded is not None
    assert refunded.refunded.amount == expected
    assert refunded.line_items[0].refunded_quantity == 1


async def test_get_orders_by_id(square: SquareEnv) -> None:
    ids = [o.id for o in square.world.square_orders[:3]]
    found = await square.connector.get_orders([*ids, "NoSuchOrder0000000000000000"])
    assert set(found) == set(ids)
    assert square.calls("orders.batch_retrieve") == 1


# --- locations and inventory ----------------------------------------------------------------------


async def test_locations_with_address_coordinates_and_mapping(square: SquareEnv) -> None:
    world = square.world
    locations = {loc.id: loc for loc in await square.connector.list_locations()}
    bkn, soh = world.locations_by_code["BKN"], world.locations_by_code["SOH"]
    assert set(locations) == {unified(bkn), f"square:{soh.square_location_id}"}
    mapped = locations[unified(bkn)]
    assert mapped.name == bkn.name
    assert mapped.address.line1 == bkn.address.line1
    assert mapped.address.postal_code == bkn.address.postal_code
    assert (mapped.latitude, mapped.longitude) == (bkn.latitude, bkn.longitude)
    assert mapped.timezone == bkn.timezone
    assert mapped.source is Source("square")


async def test_catalog_variants_from_items_with_their_variations(square: SquareEnv) -> None:
    world = square.world
    pages = [page async for page in square.connector.list_variants()]
    found = {v.sku: v for page in pages for v in page}
    assert len(found) == len(world.variants)
    assert square.calls("catalog.search") == 1  # every item of the demo on one page
    for source in world.variants:
        got = found[source.sku]
        assert got.title == f"{source.product_title} - {source.title}"
        assert (got.price, got.currency) == (source.price, world.currency)
        assert got.refs == {"variation": source.square_variation_id}
    # What it read also fills the connector's own SKU cache.
    assert square.connector.catalog.sku_of(world.variants[0].square_variation_id) == (
        world.variants[0].sku
    )


async def test_inventory_levels_for_many_skus_in_two_calls(square: SquareEnv) -> None:
    world = square.world
    skus = [v.sku for v in world.variants]
    levels = await square.connector.inventory_levels(skus)
    # one catalog search for the SKUs (250 per call), one counts call for all variations
    assert square.calls("catalog.search") == 1
    assert square.calls("inventory.batch_retrieve_counts") == 1
    bkn = world.locations_by_code["BKN"]
    by_key = {(lvl.sku, lvl.location_id): lvl for lvl in levels}
    for sku in skus[:10]:
        truth = world.stock_level(sku, "BKN")
        assert truth is not None
        level = by_key[(sku, unified(bkn))]
        assert level.quantities["available"] == truth.available
        assert level.quantities["on_hand"] == truth.available
        assert level.updated_at == truth.updated_at
    # Cached SKUs: a second read costs only the counts call.
    await square.connector.inventory_levels(skus[:3])
    assert square.calls("catalog.search") == 1


async def test_inventory_levels_filter_by_unified_location(square: SquareEnv) -> None:
    world = square.world
    bkn, soh = world.locations_by_code["BKN"], world.locations_by_code["SOH"]
    skus = [v.sku for v in world.variants[:4]]
    mapped = await square.connector.inventory_levels(skus, [unified(bkn)])
    assert {lvl.location_id for lvl in mapped} == {unified(bkn)}
    unmapped = await square.connector.inventory_levels(skus, [f"square:{soh.square_location_id}"])
    assert {lvl.location_id for lvl in unmapped} == {f"square:{soh.square_location_id}"}
    counts_calls = square.calls("inventory.batch_retrieve_counts")
    # A location Square does not have (a Shopify-only store) asks Square nothing.
    boston = world.locations_by_code["BOS"]
    assert await square.connector.inventory_levels(skus, [unified(boston)]) == []
    assert square.calls("inventory.batch_retrieve_counts") == counts_calls
    assert await square.connector.inventory_levels(["NO-SUCH-SKU"]) == []


async def test_location_map_defaults_to_square_prefix(make_square: MakeSquare) -> None:
    env = await make_square(mapping={})
    ids = {loc.id for loc in await env.connector.list_locations()}
    assert ids == {
        f"square:{loc.square_location_id}" for loc in env.world.locations if loc.square_location_id
    }
    assert location_map(env.world)  # the default fixture maps BKN; this one maps nothing


def _stocked_sku(env: SquareEnv, code: str) -> str:
    rows = [s for s in env.world.stock if s.location_code == code]
    return max(rows, key=lambda s: s.available).sku
