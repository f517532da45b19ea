"""The guarantees hold for any seed, not just the default one."""

from __future__ import annotations

import pytest

from sandboxes.demo import DEMO_NOW, generate

from .truth import resolve


@pytest.mark.parametrize("seed", [1, 2, 3, 1234])
def test_every_seed_plants_every_quirk_and_keeps_the_truth_reachable(seed: int) -> None:
    world = generate(people=200, seed=seed)
    quirks = world.quirks
    for group in (
        quirks.upper_case_email,
        quirks.local_phone,
        quirks.guest_checkout,
        quirks.two_emails,
        quirks.shared_phone,
        quirks.subscriber_only,
        quirks.pos_duplicates,
    ):
        assert group
    assert len(quirks.placeholders.square_customer_ids_by_email["none@none.com"]) >= 12
    uf, owner = resolve(world)
    clusters: dict[object, set[str]] = {}
    for node, person_id in owner.items():
        clusters.setdefault(uf.find(node), set()).add(person_id)
    assert all(len(people) == 1 for people in clusters.values())
    assert len(clusters) == sum(1 for p in world.people if p.systems)
    latest = max(
        [o.updated_at for o in world.shopify_orders]
        + [o.updated_at for o in world.square_orders]
        + [e.time for e in world.klaviyo_events]
    )
    assert latest <= DEMO_NOW
    assert all(o.refunded <= o.total for o in world.shopify_orders)
    assert all(o.refunded <= o.total for o in world.square_orders)
