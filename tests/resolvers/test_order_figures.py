"""The customer and order figures of ``analytics`` on five people worked out by hand.

Period: January and February 2026 (UTC). The people (orders as channel, day, total, lines):

- A, known to Shopify and Square: in store 2025-12-10 at L1 (50: SKU-1 x1) *before the
  period*; online 2026-01-15 (100: SKU-1 x2); in store 2026-02-10 at L1 (30: SKU-2 x1).
- B, Shopify: online 2026-01-05 (40: SKU-1 x1); online 2026-02-20 (60: SKU-3 x3).
- C, Square and Klaviyo: in store 2026-02-01 at L2 (20: SKU-2 x1).
- D, Shopify: online 2025-06-01 only, outside the period.
- F, Shopify and Klaviyo: online 2026-02-02 (10: SKU-3 x1).
- a tombstone, which counts nowhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.records import Channel, Source
from resolvers.analytics.orders import order_figures
from resolvers.analytics.scope import AnalyticsScope
from resolvers.store.segments import OrderFact, OrderLine, SegmentFacts, tombstone

ON, IN = Channel.ONLINE, Channel.IN_STORE
SHOPIFY, SQUARE, KLAVIYO = Source("shopify"), Source("square"), Source("klaviyo")
SCOPE = AnalyticsScope(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def order(key: str, channel: Channel, day: str, total: str, sku: str, units: int,
          at: str | None = None) -> OrderFact:  # fmt: skip
    return OrderFact(
        key, channel, at, datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC),
        Decimal(total), "USD", (OrderLine(sku, units, Decimal(total)),),
    )  # fmt: skip


def person(pid: str, sources: set[Source], *orders: OrderFact) -> SegmentFacts:
    return SegmentFacts(pid, 1, sources=frozenset(sources), orders=tuple(orders))


PEOPLE = [
    person("A", {SHOPIFY, SQUARE},
           order("a1", IN, "2025-12-10", "50", "SKU-1", 1, "L1"),
           order("a2", ON, "2026-01-15", "100", "SKU-1", 2),
           order("a3", IN, "2026-02-10", "30", "SKU-2", 1, "L1")),
    person("B", {SHOPIFY},
           order("b1", ON, "2026-01-05", "40", "SKU-1", 1),
           order("b2", ON, "2026-02-20", "60", "SKU-3", 3)),
    person("C", {SQUARE, KLAVIYO}, order("c1", IN, "2026-02-01", "20", "SKU-2", 1, "L2")),
    person("D", {SHOPIFY}, order("d1", ON, "2025-06-01", "80", "SKU-9", 1)),
    person("F", {SHOPIFY, KLAVIYO}, order("f1", ON, "2026-02-02", "10", "SKU-3", 1)),
    tombstone("G", 3),
]  # fmt: skip


def test_unified_customers_are_the_period_s_buyers() -> None:
    got = order_figures(PEOPLE, SCOPE).unified
    # Buyers A, B, C, F (D bought before the period); known to 2+ sources: A, C, F;
    # both channels in the period: A alone.
    assert got.count == 4
    assert got.multi_source_share == pytest.approx(3 / 4)
    assert got.both_channels_share == pytest.approx(1 / 4)


def test_classes_with_means_medians_and_uplifts() -> None:
    got = order_figures(PEOPLE, SCOPE).classes
    # Omnichannel: A alone, 100 + 30 = 130 over 2 orders, AOV 65 (the December order is
    # outside the period).
    assert got.omnichannel.count == 1
    assert got.omnichannel.revenue.mean == Decimal(130)
    assert got.omnichannel.orders.mean == Decimal(2)
    assert got.omnichannel.aov.mean == Decimal(65)
    # Online only: B (100, 2 orders, AOV 50) and F (10, 1, 10): means 55, 1.5, 30.
    online = got.online_only
    assert online.count == 2
    assert (online.revenue.mean, online.revenue.median) == (Decimal(55), Decimal(55))
    assert online.orders.mean == Decimal("1.5")
    assert online.aov.mean == Decimal(30)
    # In store only: C (20, 1, 20).
    assert got.in_store_only.count == 1
    assert got.in_store_only.aov.median == Decimal(20)
    # Uplifts: 130/55, 2/1.5, 65/30; and 130/20, 2/1, 65/20.
    assert got.vs_online_only.revenue == pytest.approx(130 / 55)
    assert got.vs_online_only.orders == pytest.approx(2 / 1.5)
    assert got.vs_online_only.aov == pytest.approx(65 / 30)
    assert got.vs_in_store_only.revenue == pytest.approx(6.5)
    assert got.vs_in_store_only.orders == pytest.approx(2.0)
    assert got.vs_in_store_only.aov == pytest.approx(3.25)


def test_months_count_cross_channel_buyers_and_migrations() -> None:
    jan, feb = order_figures(PEOPLE, SCOPE).months
    assert jan.month == datetime(2026, 1, 1, tzinfo=UTC)
    # January: buyers A and B; A had bought in both channels by the end of January.
    assert jan.buyers == 2
    assert jan.cross_channel_share == pytest.approx(1 / 2)
    # A's first order was in store (December), first online order January: store → online.
    assert (jan.store_to_online, jan.online_to_store) == (1, 0)
    # February: buyers A, B, C, F; only A has both channels; nobody's first in a channel.
    assert feb.buyers == 4
    assert feb.cross_channel_share == pytest.approx(1 / 4)
    assert (feb.store_to_online, feb.online_to_store) == (0, 0)


def test_sku_mix_sorted_by_the_largest_revenue_difference() -> None:
    got = order_figures(PEOPLE, SCOPE).skus
    # SKU-1: online 2 + 1 units, 100 + 40 = 140, in store none (December is outside): 140.
    # SKU-3: online 3 + 1 units, 60 + 10 = 70: 70.  SKU-2: in store 1 + 1, 30 + 20 = 50: 50.
    assert [(m.sku, m.online_units, m.online_revenue, m.in_store_units, m.in_store_revenue)
            for m in got] == [
        ("SKU-1", 3, Decimal(140), 0, Decimal(0)),
        ("SKU-3", 4, Decimal(70), 0, Decimal(0)),
        ("SKU-2", 0, Decimal(0), 2, Decimal(50)),
    ]  # fmt: skip
    assert [m.sku for m in order_figures(PEOPLE, SCOPE, first_skus=1).skus] == ["SKU-1"]


def test_online_demand_is_the_units_of_counted_online_orders() -> None:
    # A 2 (January), B 1 + 3, F 1; A's and C's in-store units do not count.
    assert order_figures(PEOPLE, SCOPE).online_units == 7


def test_locations_narrow_in_store_orders_only() -> None:
    at_l1 = AnalyticsScope(SCOPE.since, SCOPE.until, frozenset({"L1"}))
    got = order_figures(PEOPLE, at_l1)
    # C's only order was at L2: C is no buyer; A's L1 order and every online order count.
    assert got.unified.count == 3
    assert got.unified.multi_source_share == pytest.approx(2 / 3)
    mix = {m.sku: m for m in got.skus}
    assert (mix["SKU-2"].in_store_units, mix["SKU-2"].in_store_revenue) == (1, Decimal(30))
