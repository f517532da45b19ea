"""Orders in every channel: references resolve, money adds up, refunds never exceed totals."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.records import Channel
from sandboxes.demo import (
    DEMO_NOW,
    HISTORY_DAYS,
    DeliveryMethod,
    DemoWorld,
    PosSystem,
    ShopifyOrder,
    SquareOrder,
)
from sandboxes.demo.builder import LAST_SALE

CENT = Decimal("0.01")
START = DEMO_NOW - timedelta(days=HISTORY_DAYS)


@pytest.fixture(params=["world", "large_world"])
def any_world(request: pytest.FixtureRequest) -> DemoWorld:
    world: DemoWorld = request.getfixturevalue(request.param)
    return world


def test_shopify_orders_reference_real_things(any_world: DemoWorld) -> None:
    w = any_world
    for order in w.shopify_orders:
        location = w.locations_by_code[order.location_code]
        assert location.shopify_location_id == order.location_id
        if order.customer_id is not None:
            customer = w.shopify_customers_by_id[order.customer_id]
            assert customer.person_id == order.person_id
        for line in order.lines:
            variant = w.variants_by_sku[line.sku]
            assert variant.shopify_variant_id == line.variant_id
            assert w.products_by_shopify_id[line.product_id].code == variant.product_code
            assert line.price == variant.price
            assert line.quantity >= 1
        assert len({line.sku for line in order.lines}) == len(order.lines)
        assert START <= order.created_at <= order.updated_at <= DEMO_NOW
        assert order.currency == "USD"


def test_shopify_channels_and_locations(any_world: DemoWorld) -> None:
    w = any_world
    for order in w.shopify_orders:
        location = w.locations_by_code[order.location_code]
        if order.source_name == "web":
            assert order.channel is Channel.ONLINE
            assert order.retail_location_code is None
            if order.delivery_method is DeliveryMethod.PICK_UP:
                assert location.pickup_enabled
                assert order.shipping_address is None
            else:
                assert order.delivery_method is DeliveryMethod.SHIPPING
                assert location.fulfils_online
                assert order.shipping_address is not None
        else:
            assert order.source_name == "pos"
            assert order.channel is Channel.IN_STORE
            assert order.delivery_method is DeliveryMethod.RETAIL
            assert location.pos is PosSystem.SHOPIFY_POS
            assert order.retail_location_code == location.code
    kinds = Counter(
        (o.source_name, o.delivery_method, o.customer_id is None, o.email is None)
        for o in w.shopify_orders
    )
    assert kinds[("web", DeliveryMethod.SHIPPING, False, False)]  # account checkout
    assert kinds[("web", DeliveryMethod.PICK_UP, False, False)]  # buy online, pick up in store
    assert kinds[("web", DeliveryMethod.SHIPPING, True, False)]  # guest checkout
    assert kinds[("pos", DeliveryMethod.RETAIL, False, False)]  # customer at the till
    assert kinds[("pos", DeliveryMethod.RETAIL, True, True)]  # anonymous walk-in


def test_shopify_ids_and_names(any_world: DemoWorld) -> None:
    orders = any_world.shopify_orders
    assert [o.number for o in orders] == list(range(1001, 1001 + len(orders)))
    assert all(o.name == f"#{o.number}" for o in orders)
    assert [o.created_at for o in orders] == sorted(o.created_at for o in orders)
    ids = [o.id for o in orders]
    assert len(set(ids)) == len(ids)
    assert all(len(str(i)) == 13 for i in ids)
    line_ids = [line.id for o in orders for line in o.lines]
    assert len(set(line_ids)) == len(line_ids)


def test_square_orders_reference_real_things(any_world: DemoWorld) -> None:
    w = any_world
    for order in w.square_orders:
        assert re.fullmatch(r"[A-Za-z0-9]{27}", order.id)
        location = w.locations_by_code[order.location_code]
        assert location.pos is PosSystem.SQUARE
        assert location.square_location_id == order.location_id
        assert order.state == "COMPLETED"
        assert order.source_name == "Square Point of Sale"
        if order.customer_id is not None:
            assert w.square_customers_by_id[order.customer_id].person_id == order.person_id
        else:
            assert order.person_id is None
        for line in order.lines:
            variant = w.variants_by_sku[line.sku]
            assert variant.square_variation_id == line.catalog_object_id
            assert line.base_price == variant.price
        assert START <= order.created_at < order.closed_at <= order.updated_at
        assert order.updated_at <= DEMO_NOW + timedelta(minutes=5)
    assert len({o.id for o in w.square_orders}) == len(w.square_orders)
    assert any(o.customer_id is None for o in w.square_orders)


def check_money(
    order: ShopifyOrder | SquareOrder, prices: list[Decimal], quantities: list[int]
) -> None:
    subtotal = sum((p * q for p, q in zip(prices, quantities, strict=True)), Decimal(0))
    assert order.subtotal == subtotal
    assert order.tax == (subtotal * order.tax_rate).quantize(CENT)
    shipping = order.shipping if isinstance(order, ShopifyOrder) else Decimal(0)
    assert order.total == subtotal + shipping + order.tax
    assert order.total.as_tuple().exponent == -2


def test_totals_add_up(any_world: DemoWorld) -> None:
    for order in any_world.shopify_orders:
        check_money(order, [li.price for li in order.lines], [li.quantity for li in order.lines])
        if order.delivery_method is not DeliveryMethod.SHIPPING or order.subtotal >= 75:
            assert order.shipping == 0
        else:
            assert order.shipping > 0
    for sq in any_world.square_orders:
        check_money(sq, [li.base_price for li in sq.lines], [li.quantity for li in sq.lines])


@pytest.mark.parametrize("vendor", ["shopify", "square"])
def test_refunds_never_exceed_what_was_bought(any_world: DemoWorld, vendor: str) -> None:
    full = partial = 0
    orders: list[ShopifyOrder | SquareOrder] = (
        list(any_world.shopify_orders) if vendor == "shopify" else list(any_world.square_orders)
    )
    for order in orders:
        if not order.refunds:
            continue
        assert Decimal(0) < order.refunded <= order.total
        assert order.net >= 0
        previous = order.created_at
        refunded_qty: Counter[str] = Counter()
        for refund in order.refunds:
            assert previous < refund.created_at <= DEMO_NOW
            previous = refund.created_at
            assert refund.amount > 0
            line_money = sum((r.subtotal + r.tax for r in refund.lines), Decimal(0))
            shipping = getattr(refund, "shipping", Decimal(0))
            assert refund.amount == line_money + shipping
            for r in refund.lines:
                refunded_qty[r.sku] += r.quantity
        bought = {line.sku: line.quantity for line in order.lines}
        assert all(qty <= bought[sku] for sku, qty in refunded_qty.items())
        if order.refunded == order.total:
            full += 1
            assert refunded_qty == Counter(bought)
        else:
            partial += 1
            assert refunded_qty != Counter(bought)
    # A few percent of orders come back, fully or in part, in every vendor.
    assert 0.02 < (full + partial) / len(orders) < 0.12
    assert full > 0
    assert partial > 0


def test_financial_status_follows_refunds(world: DemoWorld) -> None:
    statuses = Counter(o.financial_status for o in world.shopify_orders)
    assert set(statuses) == {"paid", "partially_refunded", "refunded"}
    for order in world.shopify_orders:
        if order.financial_status == "refunded":
            assert order.net == 0


def test_refund_lines_point_at_order_lines(world: DemoWorld) -> None:
    for order in world.shopify_orders:
        lines = {line.id: line for line in order.lines}
        for refund in order.refunds:
            for r in refund.lines:
                assert lines[r.line_item_id].sku == r.sku
    for sq in world.square_orders:
        uids = {line.uid: line for line in sq.lines}
        for sq_refund in sq.refunds:
            assert sq_refund.id.startswith(sq.payment_id + "_")
            for ret in sq_refund.lines:
                assert uids[ret.source_line_item_uid].sku == ret.sku


def test_orders_spread_over_two_years(large_world: DemoWorld) -> None:
    quarters = Counter((DEMO_NOW - o.created_at).days // 91 for o in large_world.shopify_orders)
    assert set(range(8)) <= set(quarters)
    # The business grows: the latest quarter sells more than the first.
    assert quarters[0] > quarters[7]


def test_omnichannel_people_buy_in_both_channels(large_world: DemoWorld) -> None:
    channels: dict[str, set[Channel]] = {}
    for order in large_world.shopify_orders:
        if order.person_id:
            channels.setdefault(order.person_id, set()).add(order.channel)
    for sq in large_world.square_orders:
        if sq.person_id:
            channels.setdefault(sq.person_id, set()).add(Channel.IN_STORE)
    both = sum(1 for c in channels.values() if len(c) == 2)
    buyers = len(channels)
    assert 0.2 < both / buyers < 0.4
    for person in large_world.people:
        expected = {
            "online_only": {Channel.ONLINE},
            "in_store_only": {Channel.IN_STORE},
            "omnichannel": {Channel.ONLINE, Channel.IN_STORE},
            "subscriber_only": set(),
        }[person.persona]
        assert channels.get(person.id, set()) == expected, person.id


def test_store_sales_happen_in_opening_hours(world: DemoWorld) -> None:
    offsets = {"America/New_York": -5, "America/Chicago": -6}
    for order in [o for o in world.shopify_orders if o.source_name == "pos"] + list(
        world.square_orders
    ):
        tz = world.locations_by_code[order.location_code].timezone
        local_hour = (order.created_at.hour + offsets[tz]) % 24
        assert 10 <= local_hour < 20 or order.created_at == LAST_SALE
