"""The connector against the sandbox over loopback HTTP: batching, paging, mapping.

Call counts come from the connector's ``RequestCounter`` (every attempt on the wire) and are
cross-checked with the sandbox's own count of requests received. Tests that only count calls
run the sandbox with a Plus-sized restore rate, so they do not spend seconds refilling a
Standard bucket; pacing at 100 points/s has its own tests (``test_client.py``).
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from connectors.capabilities import (
    CatalogSource,
    Connector,
    CustomerSource,
    InventorySource,
    LocationSource,
    OrderSource,
)
from connectors.http import HttpConfig
from connectors.metrics import RequestCounter
from connectors.records import Channel, ConsentState, LocationKind
from connectors.shopify import queries
from connectors.shopify.connector import ShopifyConfig, ShopifyConnector
from sandboxes.demo import DemoWorld
from tests.connectors.shopify.conftest import MakeConnector, StartShop

FAST = {"restore_rate": 10_000.0}
#: These tests only read, so the sandbox may serve the session's world without copying it.
SHARED = {"copy_world": False}


def gid(kind: str, id_: int) -> str:
    return f"gid://shopify/{kind}/{id_}"


def test_connector_implements_the_capabilities_and_the_gateway_constructor() -> None:
    connector = ShopifyConnector(
        ShopifyConfig(
            http=HttpConfig(base_url="https://acme.myshopify.com"),
            access_token="shpat_x",
            api_version="2026-01",
            webhook_secret=None,
        ),
        counter=RequestCounter(),
    )
    for capability in (Connector, CustomerSource, OrderSource, LocationSource, InventorySource):
        assert isinstance(connector, capability)
    assert connector.webhooks is None
    assert connector.circuit_state() == "closed"


async def test_reading_500_customers_by_id_takes_at_most_two_calls(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(big_world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    customers = big_world.shopify_customers[:500]
    ids = [gid("Customer", c.id) for c in customers]

    found = await connector.get_customers(ids)

    assert counter.count("shopify") == 2
    assert counter.count("shopify", "customers_by_ids") == 2
    assert shop.requests() == 2
    assert set(found) == set(ids)
    for customer in customers:
        record = found[gid("Customer", customer.id)]
        assert record.emails == ((customer.email,) if customer.email else ())
        assert record.phones == ((customer.phone,) if customer.phone else ())
        assert (record.first_name, record.last_name) == (customer.first_name, customer.last_name)


async def test_get_customers_accepts_numeric_ids_and_omits_unknown_ones(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    known = world.shopify_customers[0]
    found = await connector.get_customers([str(known.id), gid("Customer", 1), gid("Order", 2)])
    assert list(found) == [str(known.id)]
    assert found[str(known.id)].id == gid("Customer", known.id)


async def test_consent_and_address_are_mapped(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    subscribed = next(
        c
        for c in world.shopify_customers
        if c.email and c.email_consent.state is ConsentState.SUBSCRIBED and c.addresses
    )
    record = (await connector.get_customers([gid("Customer", subscribed.id)]))[
        gid("Customer", subscribed.id)
    ]
    assert record.email_consent is not None
    assert record.email_consent.state is ConsentState.SUBSCRIBED
    assert record.email_consent.can_receive
    assert record.addresses[0].postal_code == subscribed.addresses[0].postal_code
    assert record.addresses[0].region == subscribed.addresses[0].region


async def test_orders_for_50_customers_take_one_call_per_page(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(big_world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    buyers = [
        c for c in big_world.shopify_customers if big_world.shopify_orders_by_customer.get(c.id)
    ]
    group = buyers[:50]
    expected = {
        gid("Order", o.id): o for c in group for o in big_world.shopify_orders_by_customer[c.id]
    }
    page_size = connector._page_size(queries.SEARCH_ORDERS, {"lineItems": 10})

    result = await connector.orders_for_customers([gid("Customer", c.id) for c in group])

    pages = math.ceil(len(expected) / page_size)
    assert pages >= 2  # the test really pages
    assert counter.count("shopify", "orders_for_customers") == pages
    assert counter.count("shopify") == pages
    assert shop.requests() == pages
    got = {o.id: o for orders in result.values() for o in orders}
    assert set(got) == set(expected)
    for customer in group:
        mine = result[gid("Customer", customer.id)]
        assert {o.id for o in mine} == {
            gid("Order", o.id) for o in big_world.shopify_orders_by_customer[customer.id]
        }
    for order_id, source in expected.items():
        record = got[order_id]
        assert record.total.amount == source.total
        assert [li.sku for li in record.line_items] == [li.sku for li in source.lines]
        if source.source_name == "pos":
            assert record.channel is Channel.IN_STORE
            assert record.location_id == f"shopify:{source.location_id}"
        else:
            assert record.channel is Channel.ONLINE
            assert record.location_id is None


async def test_refunds_and_refunded_quantities_are_mapped(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(big_world, **SHARED)
    connector = await make_connector(shop)
    refunded = next(o for o in big_world.shopify_orders if o.refunds)
    record = (await connector.get_orders([gid("Order", refunded.id)]))[gid("Order", refunded.id)]
    assert record.refunded is not None
    assert record.refunded.amount == refunded.refunded
    returned = {line.sku: 0 for line in refunded.lines}
    for refund in refunded.refunds:
        for line in refund.lines:
            returned[line.sku] += line.quantity
    assert {li.sku: li.refunded_quantity for li in record.line_items} == returned


async def test_orders_with_many_line_items_are_completed_by_a_follow_up_call(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter, line_items_per_order=1)
    order = next(o for o in world.shopify_orders if len(o.lines) >= 3)
    record = (await connector.get_orders([gid("Order", order.id)]))[gid("Order", order.id)]
    assert [li.sku for li in record.line_items] == [li.sku for li in order.lines]
    assert counter.count("shopify", "orders_by_ids") == 1
    assert counter.count("shopify", "order_line_items") == 1


async def test_search_by_one_email_uses_customer_by_identifier(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    customer = next(c for c in world.shopify_customers if c.email)
    found = await connector.search_customers(emails=[customer.email.upper()])  # type: ignore[union-attr]
    assert [r.id for r in found] == [gid("Customer", customer.id)]
    assert counter.count("shopify", "customer_by_identifier") == 1
    assert await connector.search_customers(emails=["nobody@nowhere.example"]) == []


async def test_search_by_emails_phones_and_name_is_one_query(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    with_email = [c for c in world.shopify_customers if c.email][:3]
    with_phone = next(c for c in world.shopify_customers if c.phone and c not in with_email)
    found = await connector.search_customers(
        emails=[c.email for c in with_email],  # type: ignore[misc]
        phones=[with_phone.phone],  # type: ignore[list-item]
    )
    assert {r.id for r in found} == {gid("Customer", c.id) for c in [*with_email, with_phone]}
    assert counter.count("shopify", "search_customers") == 1

    target = world.shopify_customers[5]
    by_name = await connector.search_customers(name=f"{target.first_name} {target.last_name}")
    assert gid("Customer", target.id) in {r.id for r in by_name}
    assert all(
        r.first_name and r.first_name.lower().startswith(target.first_name.lower()) for r in by_name
    )


async def test_incremental_listing_pages_by_update_time(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(big_world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    everyone = [page async for page in connector.list_customers()]
    assert sum(len(p) for p in everyone) == len(big_world.shopify_customers)
    assert len(everyone) == counter.count("shopify", "list_customers") >= 3
    stamps = [r.updated_at for page in everyone for r in page]
    assert stamps == sorted(stamps)  # type: ignore[type-var]

    since = sorted(c.updated_at for c in big_world.shopify_customers)[-40]
    recent = [r async for page in connector.list_customers(updated_since=since) for r in page]
    expected = {gid("Customer", c.id) for c in big_world.shopify_customers if c.updated_at >= since}
    assert {r.id for r in recent} == expected
    assert since - timedelta(seconds=1) < min(r.updated_at for r in recent)  # type: ignore[operator, type-var]


async def test_locations_are_mapped_with_unified_ids(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    locations = {loc.id: loc for loc in await connector.list_locations()}
    assert len(locations) == len(world.locations)
    for source in world.locations:
        record = locations[f"shopify:{source.shopify_location_id}"]
        assert record.name == source.name
        assert record.kind is source.kind
        assert record.pickup_enabled is source.pickup_enabled
        assert record.fulfils_online_orders is source.fulfils_online
        assert (record.latitude, record.longitude) == (source.latitude, source.longitude)
        assert record.address.city == source.address.city
        assert record.phone == source.phone
    assert any(r.kind is LocationKind.WAREHOUSE for r in locations.values())


async def test_pickup_lead_time_is_read_from_pickup_time(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    minutes = {"ONE_HOUR": 60, "TWO_HOURS": 120, "FOUR_HOURS": 240}
    locations = {loc.id: loc for loc in await connector.list_locations()}
    for source in world.locations:
        record = locations[f"shopify:{source.shopify_location_id}"]
        expected = minutes[source.pickup_time] if source.pickup_enabled else None
        assert record.pickup_lead_time_minutes == expected, source.code


async def test_catalog_variants_carry_sku_title_price_and_both_ids(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    assert isinstance(connector, CatalogSource)
    pages = [page async for page in connector.list_variants()]
    found = {v.sku: v for page in pages for v in page}
    assert len(found) == len(world.variants)
    # As many variants a page as the cost limit allows: one call for the demo catalogue.
    assert counter.count("shopify", "catalog") == math.ceil(len(world.variants) / 250)
    for source in world.variants:
        got = found[source.sku]
        assert got.title == f"{source.product_title} - {source.title}"
        assert (got.price, got.currency) == (source.price, world.currency)
        assert got.refs == {
            "variant": gid("ProductVariant", source.shopify_variant_id),
            "inventory_item": gid("InventoryItem", source.shopify_inventory_item_id),
        }


async def test_inventory_for_every_sku_across_all_locations_in_few_calls(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    skus = [v.sku for v in world.variants]

    levels = await connector.inventory_levels(skus)

    assert len(levels) == len(world.stock)
    by_key = {(lv.sku, lv.location_id): lv for lv in levels}
    codes = {loc.code: f"shopify:{loc.shopify_location_id}" for loc in world.locations}
    for row in world.stock:
        level = by_key[(row.sku, codes[row.location_code])]
        assert level.quantities == row.quantities()
        assert level.updated_at == row.updated_at.replace(microsecond=0)
    per_page = connector._page_size(
        queries.INVENTORY_BY_SKU,
        {"levels": len(world.locations), "names": list(connector.config.quantity_names)},
    )
    assert counter.count("shopify", "locations") == 1
    assert counter.count("shopify", "inventory_levels") == math.ceil(len(skus) / per_page)
    assert len(connector.sku_cache) == len(skus)
    item = world.variants[0]
    assert connector.sku_cache[gid("InventoryItem", item.shopify_inventory_item_id)] == item.sku


async def test_inventory_can_be_narrowed_to_locations(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    store = world.locations_by_code["BOS"]
    unified = f"shopify:{store.shopify_location_id}"
    levels = await connector.inventory_levels(["TEE-ORG-BLK-M", "NOPE-SKU"], [unified])
    assert [(lv.sku, lv.location_id) for lv in levels] == [("TEE-ORG-BLK-M", unified)]
    row = world.stock_level("TEE-ORG-BLK-M", "BOS")
    assert row is not None
    assert levels[0].quantities["available"] == row.available


async def test_sku_cache_can_be_loaded_up_front(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    connector = await make_connector(shop)
    assert await connector.refresh_sku_cache() == len(world.variants)
    assert set(connector.sku_cache.values()) == {v.sku for v in world.variants}


def test_money_is_decimal() -> None:
    from connectors.shopify.mapping import parse_money

    money = parse_money({"shopMoney": {"amount": "10.10", "currencyCode": "usd"}})
    assert money is not None
    assert money.amount == Decimal("10.10")
    assert money.currency == "USD"


async def test_guest_checkout_orders_are_found_by_email(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    guests = world.quirks.guest_checkout
    emails = [q.email.upper() for q in guests]

    found = await connector.orders_for_emails([*emails, "nobody@nowhere.example"])

    assert found["nobody@nowhere.example"] == []
    for quirk, asked in zip(guests, emails, strict=True):
        ids = {o.id for o in found[asked]}
        assert gid("Order", quirk.shopify_order_id) in ids
        guest = next(o for o in found[asked] if o.id == gid("Order", quirk.shopify_order_id))
        assert guest.customer_id is None
    assert counter.count("shopify", "orders_for_emails") == 1


async def test_a_customer_bundle_is_one_request_answering_like_the_three_reads(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    """A cold 360's Shopify reads (the customer, their orders, orders placed with their
    emails) go out as one ``CustomerBundle`` request and answer what three would."""
    shop = await start_shop(world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    buyer = next(
        c for c in world.shopify_customers if c.email and world.shopify_orders_by_customer.get(c.id)
    )
    guest = world.quirks.guest_checkout[0]
    ids = [gid("Customer", buyer.id), gid("Customer", 999_999_999)]
    emails = [str(buyer.email).upper(), guest.email, "nobody@nowhere.example"]

    bundle = await connector.customer_bundle(ids, emails)

    assert counter.count("shopify", "customer_bundle") == 1
    assert counter.count("shopify") == 1
    separate = (
        await connector.get_customers(ids),
        await connector.orders_for_customers(ids),
        await connector.orders_for_emails(emails),
    )
    assert bundle.customers == separate[0]
    assert set(bundle.customers) == {ids[0]}
    assert bundle.orders == separate[1]
    assert {o.id for o in bundle.orders[ids[0]]} == {
        gid("Order", o.id) for o in world.shopify_orders_by_customer[buyer.id]
    }
    assert bundle.email_orders == separate[2]
    assert gid("Order", guest.shopify_order_id) in {o.id for o in bundle.email_orders[guest.email]}
    assert bundle.email_orders["nobody@nowhere.example"] == []


async def test_a_bundle_pages_on_through_search_orders(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    """The bundle asks for a few orders per person; a customer with more gets the rest
    from later ``SearchOrders`` pages, nothing lost or repeated."""
    shop = await start_shop(world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter, orders_per_person=1)
    buyer = next(
        c
        for c in world.shopify_customers
        if c.email and len(world.shopify_orders_by_customer.get(c.id, ())) >= 3
    )
    customer = gid("Customer", buyer.id)

    bundle = await connector.customer_bundle([customer], [str(buyer.email)])

    ids = [o.id for o in bundle.orders[customer]]
    assert sorted(ids) == sorted(
        gid("Order", o.id) for o in world.shopify_orders_by_customer[buyer.id]
    )
    assert len(ids) == len(set(ids))
    assert counter.count("shopify", "customer_bundle") == shop.requests() >= 2


async def test_large_or_one_sided_bundles_fall_back_to_the_batched_reads(
    big_world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    """Fifty customers' data would not fit one request's cost: the bundle is then the three
    batched reads side by side, as are bundles with no email or no customer to ask about."""
    shop = await start_shop(big_world, **FAST, **SHARED)
    counter = RequestCounter()
    connector = await make_connector(shop, counter=counter)
    group = [c for c in big_world.shopify_customers if c.email][:50]
    ids = [gid("Customer", c.id) for c in group]
    emails = [str(c.email) for c in group]

    bundle = await connector.customer_bundle(ids, emails)

    assert counter.count("shopify", "customer_bundle") == 0
    assert counter.count("shopify", "customers_by_ids") == 1
    assert counter.count("shopify", "orders_for_customers") >= 1
    assert counter.count("shopify", "orders_for_emails") >= 1
    assert set(bundle.customers) == set(ids)
    counter.reset()
    only_ids = await connector.customer_bundle(ids[:1], [])
    assert set(only_ids.customers) == set(ids[:1])
    assert only_ids.email_orders == {}
    assert counter.count("shopify", "customer_bundle") == 0


async def test_an_orders_discount_codes_are_read(
    world: DemoWorld, start_shop: StartShop, make_connector: MakeConnector
) -> None:
    shop = await start_shop(world)
    connector = await make_connector(shop)
    row = next(s for s in world.stock if s.location_code == "WHS" and s.available >= 1)
    status, sale = await shop.call(
        "POST",
        "/sales",
        {"source_name": "web", "lines": [{"sku": row.sku}], "discount_codes": ["7K2M9QX4TB"]},
    )
    assert status == 200
    order_id = sale["order"]["id"]
    assert (await connector.get_orders([order_id]))[order_id].codes == ("7K2M9QX4TB",)
    plain = next(o for o in world.shopify_orders)
    record = (await connector.get_orders([gid("Order", plain.id)]))[gid("Order", plain.id)]
    assert record.codes == ()
