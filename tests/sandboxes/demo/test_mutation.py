"""Sandboxes change the world at runtime: additions keep the indexes right and ids fresh."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

from connectors.records import Channel, Source
from sandboxes.demo import (
    DEMO_NOW,
    DeliveryMethod,
    KlaviyoEvent,
    ShopifyLineItem,
    ShopifyOrder,
    SquareOrder,
    generate,
)


def test_new_ids_have_the_vendor_style_and_never_collide() -> None:
    w = generate(people=60, seed=5)
    shopify_order = w.new_order_id(Source("shopify"), DEMO_NOW)
    square_order = w.new_order_id(Source("square"))
    assert isinstance(shopify_order, int)
    assert shopify_order not in w.shopify_orders_by_id
    assert len(square_order) == 27
    assert square_order not in w.square_orders_by_id
    shopify_customer = w.new_customer_id(Source("shopify"))
    assert shopify_customer not in w.shopify_customers_by_id
    assert len(w.new_customer_id(Source("square"))) == 26
    profile = w.new_customer_id(Source("klaviyo"), DEMO_NOW + timedelta(days=1))
    assert profile not in w.klaviyo_profiles_by_id
    assert profile > max(w.klaviyo_profiles_by_id)  # ULIDs sort by creation time
    # Many ids at one frozen instant stay unique (no quadratic probing either).
    burst = [w.new_order_id(Source("shopify"), DEMO_NOW) for _ in range(2_000)]
    assert len(set(burst)) == len(burst)


def test_added_orders_and_events_are_indexed() -> None:
    w = generate(people=60, seed=5)
    customer = w.shopify_customers[0]
    variant = w.variants_by_sku["TEE-ORG-BLK-M"]
    at = DEMO_NOW + timedelta(minutes=3)
    order_id, name = w.new_shopify_order_ref(at)
    store = w.locations_by_code["BOS"]
    order = ShopifyOrder(
        id=order_id,
        name=name,
        number=int(name[1:]),
        person_id=customer.person_id,
        customer_id=customer.id,
        email=customer.email,
        phone=None,
        source_name="pos",
        channel=Channel.IN_STORE,
        delivery_method=DeliveryMethod.RETAIL,
        location_code=store.code,
        location_id=store.shopify_location_id,
        created_at=at,
        updated_at=at,
        currency="USD",
        lines=[
            ShopifyLineItem(
                id=1,
                sku=variant.sku,
                title=variant.product_title,
                variant_title=variant.title,
                quantity=1,
                price=variant.price,
                product_id=variant.shopify_product_id,
                variant_id=variant.shopify_variant_id,
            )
        ],
        subtotal=variant.price,
        shipping=Decimal(0),
        tax=Decimal("1.75"),
        total=variant.price + Decimal("1.75"),
        tax_rate=Decimal("0.0625"),
        shipping_address=None,
        refunds=[],
    )
    before = len(w.shopify_orders_by_customer.get(customer.id, []))
    w.add_shopify_order(order)
    assert w.shopify_orders_by_id[order_id] is order
    assert len(w.shopify_orders_by_customer[customer.id]) == before + 1
    assert order.financial_status == "paid"

    square = w.square_orders[0]
    copy = SquareOrder(**{f: getattr(square, f) for f in SquareOrder.__dataclass_fields__})
    copy.id = w.new_square_order_id()
    w.add_square_order(copy)
    assert w.square_orders_by_id[copy.id] is copy

    profile = w.klaviyo_profiles[0]
    event = KlaviyoEvent(
        w.new_klaviyo_event_id(), profile.id, w.klaviyo_metrics[0].id, at, None, {}, "P"
    )
    w.add_klaviyo_event(event)
    assert w.klaviyo_events_by_profile[profile.id][-1] is event


def test_reindex_rebuilds_the_same_indexes() -> None:
    w = generate(people=60, seed=5)
    before = (dict(w.shopify_orders_by_customer), dict(w.variants_by_square_id))
    w.reindex()
    assert (w.shopify_orders_by_customer, w.variants_by_square_id) == before


DIGEST = """
import hashlib
from sandboxes.demo import generate
w = generate(people=200, seed=7)
parts = [repr((p.id, p.email, p.phone, sorted(p.systems), p.square_customer_ids)) for p in w.people]
for name in ("shopify_customers", "square_customers", "klaviyo_profiles", "shopify_orders",
             "square_orders", "klaviyo_events", "stock", "quirks"):
    parts.append(repr(getattr(w, name)))
print(hashlib.sha256("".join(parts).encode()).hexdigest())
"""


def test_same_world_in_another_process_with_another_hash_seed() -> None:
    """Nothing depends on set order or string hashing, which differ between processes."""
    digests = {
        subprocess.run(
            [sys.executable, "-c", DIGEST],
            env={"PYTHONHASHSEED": hash_seed, "PYTHONDONTWRITEBYTECODE": "1", "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1
    assert len(digests.pop().strip()) == 64
