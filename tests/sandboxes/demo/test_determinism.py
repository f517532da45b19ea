"""Same arguments, same world; a different seed, a different population on the same catalogue."""

from __future__ import annotations

import pytest

from sandboxes.demo import DEMO_NOW, MIN_PEOPLE, DemoWorld, ShopifyKind, generate


def test_same_seed_gives_an_equal_world(world: DemoWorld) -> None:
    again = generate(people=200, seed=7)
    assert again == world
    # Spot-check the parts equality could miss if a field were excluded by mistake.
    assert [p.email for p in again.people] == [p.email for p in world.people]
    assert [o.id for o in again.shopify_orders] == [o.id for o in world.shopify_orders]
    assert [e.id for e in again.klaviyo_events] == [e.id for e in world.klaviyo_events]
    assert again.quirks == world.quirks


def test_different_seed_gives_different_people_on_the_same_catalogue(world: DemoWorld) -> None:
    other = generate(people=200, seed=8)
    assert other != world
    assert {p.email for p in other.people} != {p.email for p in world.people}
    assert {c.id for c in other.shopify_customers}.isdisjoint(
        {c.id for c in world.shopify_customers}
    )
    # The catalogue and stores are fixed facts: SKUs and store codes do not move with the seed.
    assert [v.sku for v in other.variants] == [v.sku for v in world.variants]
    assert [loc.code for loc in other.locations] == [loc.code for loc in world.locations]
    # ...but their vendor ids do.
    assert [v.shopify_variant_id for v in other.variants] != [
        v.shopify_variant_id for v in world.variants
    ]


def test_no_timestamp_is_after_demo_now(world: DemoWorld) -> None:
    """Nothing reads the wall clock: everything is relative to the fixed DEMO_NOW."""
    stamps = [
        *(c.created_at for c in world.shopify_customers),
        *(c.updated_at for c in world.shopify_customers),
        *(c.updated_at for c in world.square_customers),
        *(p.updated for p in world.klaviyo_profiles),
        *(o.updated_at for o in world.shopify_orders),
        *(o.closed_at for o in world.square_orders),
        *(e.time for e in world.klaviyo_events),
        *(s.updated_at for s in world.stock),
    ]
    assert stamps
    assert max(stamps) <= DEMO_NOW
    assert all(s.tzinfo is not None for s in stamps)


def test_runtime_ids_are_deterministic_and_fresh() -> None:
    """Two equal worlds hand out the same new ids, and none collides with a generated one."""
    a, b = generate(people=MIN_PEOPLE, seed=3), generate(people=MIN_PEOPLE, seed=3)
    new_a = [a.new_shopify_order_ref(DEMO_NOW) for _ in range(50)]
    new_b = [b.new_shopify_order_ref(DEMO_NOW) for _ in range(50)]
    assert new_a == new_b
    ids = [order_id for order_id, _ in new_a]
    assert len(set(ids)) == 50
    assert set(ids).isdisjoint(a.shopify_orders_by_id)
    assert min(ids) > max(a.shopify_orders_by_id)
    last = max(o.number for o in a.shopify_orders)
    assert [name for _, name in new_a[:2]] == [f"#{last + 1}", f"#{last + 2}"]
    assert a.new_square_order_id() == b.new_square_order_id()
    assert a.new_square_order_id() not in a.square_orders_by_id
    customer = a.new_shopify_id(ShopifyKind.CUSTOMER, a.shopify_customers[0].created_at)
    assert customer not in a.shopify_customers_by_id


def test_too_small_a_world_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(people=MIN_PEOPLE - 1)
