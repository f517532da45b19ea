"""The :class:`~resolvers.store.SegmentFactStore` contract on every backend (see
``tests/store/conftest.py``): a fixed set of people, filters built as ``customerSegment``
builds them, and the members worked out by hand; version-conditional writes; tombstones;
pagination and the total."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.records import Channel, Source
from gateway.store.mongo import MongoBackend, MongoSegments
from resolvers.errors import BadUserInput
from resolvers.segments.filters import (
    AmountRange,
    CustomerFilter,
    IntRange,
    When,
    build,
)
from resolvers.store import SegmentFactStore
from resolvers.store.segments import ChannelMix, Field, SegmentFacts, tombstone

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ON, IN = Channel.ONLINE, Channel.IN_STORE
SHOPIFY, SQUARE, KLAVIYO = Source("shopify"), Source("square"), Source("klaviyo")


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, 0, tzinfo=UTC)


PEOPLE = [
    SegmentFacts(
        "cus_a", 1, frozenset({ON}), Decimal("120.00"), "USD", 3, at(2025, 1, 10),
        at(2026, 5, 20), None, True, False, frozenset({SHOPIFY, KLAVIYO}),
        frozenset({"SKU-1", "SKU-2"}), frozenset(), "gold", 500,
    ),
    SegmentFacts(
        "cus_b", 1, frozenset({IN}), Decimal("45.50"), "USD", 1, at(2026, 2, 1),
        at(2026, 2, 1), "L1", False, True, frozenset({SQUARE}), frozenset({"SKU-3"}),
        frozenset({"L1"}), None, None,
    ),
    SegmentFacts(
        "cus_c", 1, frozenset({ON, IN}), Decimal("900"), "USD", 10, at(2024, 3, 1),
        at(2026, 5, 31), "L2", True, True, frozenset({SHOPIFY, SQUARE, KLAVIYO}),
        frozenset({"SKU-1", "SKU-4"}), frozenset({"L1", "L2"}), "platinum", 2000,
    ),
    SegmentFacts(
        "cus_d", 1, frozenset({IN}), Decimal("300"), "USD", 4, at(2025, 6, 1),
        at(2026, 4, 1), "L2", True, False, frozenset({SQUARE, KLAVIYO}), frozenset({"SKU-4"}),
        frozenset({"L2"}), "silver", 150,
    ),
    # A subscriber who never bought.
    SegmentFacts(
        "cus_e", 1, frozenset(), Decimal(0), "USD", 0, None, None, None, True, False,
        frozenset({KLAVIYO}),
    ),
    SegmentFacts(
        "cus_f", 1, frozenset({ON}), Decimal("45.50"), "USD", 2, at(2026, 5, 25),
        at(2026, 5, 30), None, False, False, frozenset({SHOPIFY}), frozenset({"SKU-2"}),
        frozenset(), "silver", 0,
    ),
]  # fmt: skip
#: Someone merged away: matched by nothing.
RETIRED = tombstone("cus_g", 9)

CASES: list[tuple[str, CustomerFilter, set[str]]] = [
    ("in store only", CustomerFilter(channel=ChannelMix.IN_STORE_ONLY), {"b", "d"}),
    ("online only", CustomerFilter(channel=ChannelMix.ONLINE_ONLY), {"a", "f"}),
    ("both", CustomerFilter(channel=ChannelMix.BOTH), {"c"}),
    (
        "lifetime value, bounds inclusive",
        CustomerFilter(lifetime_value=AmountRange(Decimal("45.5"), Decimal("300.00"))),
        {"a", "b", "d", "f"},
    ),
    ("at least two orders", CustomerFilter(order_count=IntRange(min=2)), {"a", "c", "d", "f"}),
    ("no order", CustomerFilter(order_count=IntRange(max=0)), {"e"}),
    ("last order within 30 days", CustomerFilter(last_order=When(within_days=30)), {"a", "c", "f"}),
    ("lapsed 90 days", CustomerFilter(last_order=When(not_within_days=90)), {"b"}),
    (
        "last order 30 to 90 days ago",
        CustomerFilter(last_order=When(within_days=90, not_within_days=30)),
        {"d"},
    ),
    ("first order before 2025", CustomerFilter(first_order=When(before=at(2025, 1, 1))), {"c"}),
    (
        "first order at or after 2026-02-01 noon",
        CustomerFilter(first_order=When(after=at(2026, 2, 1))),
        {"b", "f"},
    ),
    ("favourite store", CustomerFilter(favourite_store="L2"), {"c", "d"}),
    ("bought at a store", CustomerFilter(bought_at_store=("L1",)), {"b", "c"}),
    ("bought any of SKUs", CustomerFilter(bought_skus=("SKU-2", "SKU-3")), {"a", "b", "f"}),
    ("email consent", CustomerFilter(email_consent=True), {"a", "c", "d", "e"}),
    ("no email consent", CustomerFilter(email_consent=False), {"b", "f"}),
    ("sms consent", CustomerFilter(sms_consent=True), {"b", "c"}),
    ("tier", CustomerFilter(loyalty_tier=("silver", "gold")), {"a", "d", "f"}),
    ("points at least 150", CustomerFilter(points=IntRange(min=150)), {"a", "c", "d"}),
    ("no points (an account at 0)", CustomerFilter(points=IntRange(max=0)), {"f"}),
    ("known to Square", CustomerFilter(in_source=SQUARE), {"b", "c", "d"}),
    (
        "conditions of one filter AND",
        CustomerFilter(channel=ChannelMix.ONLINE_ONLY, email_consent=True),
        {"a"},
    ),
    (
        "OR of ANDs",
        CustomerFilter(
            any=(
                CustomerFilter(
                    channel=ChannelMix.IN_STORE_ONLY, last_order=When(not_within_days=90)
                ),
                CustomerFilter(
                    all=(
                        CustomerFilter(channel=ChannelMix.ONLINE_ONLY),
                        CustomerFilter(email_consent=True),
                    )
                ),
            )
        ),
        {"a", "b"},
    ),
    (
        "AND of an OR",
        CustomerFilter(
            all=(
                CustomerFilter(
                    any=(CustomerFilter(bought_skus=("SKU-4",)), CustomerFilter(in_source=SHOPIFY))
                ),
                CustomerFilter(points=IntRange(min=150)),
            )
        ),
        {"a", "c", "d"},
    ),
    (
        "in-store-only buyers who can get email, invited online",
        CustomerFilter(
            channel=ChannelMix.IN_STORE_ONLY,
            email_consent=True,
            any=(CustomerFilter(favourite_store="L1"), CustomerFilter(favourite_store="L2")),
        ),
        {"d"},
    ),
]


async def seeded(segments: SegmentFactStore) -> SegmentFactStore:
    for facts in [*PEOPLE, RETIRED]:
        assert await segments.put_facts(facts)
    return segments


async def members(segments: SegmentFactStore, where: CustomerFilter) -> set[str]:
    page = await segments.find_facts(build(where, NOW), first=100)
    assert page.total == len(page.facts)
    assert not page.has_next
    return {f.profile_id.removeprefix("cus_") for f in page.facts}


@pytest.mark.parametrize(("name", "where", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_each_filter_finds_the_people_worked_out_by_hand(
    segments: SegmentFactStore, name: str, where: CustomerFilter, expected: set[str]
) -> None:
    await seeded(segments)
    assert await members(segments, where) == expected


async def test_facts_read_back_as_written(segments: SegmentFactStore) -> None:
    await seeded(segments)
    found = await segments.get_facts(["cus_c", "cus_e", "cus_g", "cus_nobody"])
    assert found == {"cus_c": PEOPLE[2], "cus_e": PEOPLE[4], "cus_g": RETIRED}


async def test_pages_in_profile_id_order_with_the_total(segments: SegmentFactStore) -> None:
    await seeded(segments)
    everyone = build(CustomerFilter(order_count=IntRange(min=0)), NOW)
    seen: list[str] = []
    after: str | None = None
    for expected_next in (True, True, False):
        page = await segments.find_facts(everyone, first=2, after=after)
        assert page.total == 6  # the tombstone is nobody
        assert page.has_next is expected_next
        seen += [f.profile_id for f in page.facts]
        after = page.facts[-1].profile_id
    assert seen == [f"cus_{x}" for x in "abcdef"]
    # After the last one: nothing, and still the total.
    page = await segments.find_facts(everyone, first=2, after="cus_f")
    assert (page.facts, page.has_next, page.total) == ([], False, 6)
    # A cursor between ids starts after it.
    page = await segments.find_facts(everyone, first=10, after="cus_b0")
    assert [f.profile_id for f in page.facts] == ["cus_c", "cus_d", "cus_e", "cus_f"]


async def test_an_older_version_never_overwrites_a_newer_one(segments: SegmentFactStore) -> None:
    newer = SegmentFacts("cus_x", 5, frozenset({IN}), Decimal("10"), order_count=1)
    older = SegmentFacts("cus_x", 4, frozenset({ON}), Decimal("99"), order_count=7)
    assert await segments.put_facts(newer)
    assert not await segments.put_facts(older)
    assert not await segments.put_facts(newer)  # the same version again: nothing to do
    assert (await segments.get_facts(["cus_x"]))["cus_x"] == newer
    online = build(CustomerFilter(channel=ChannelMix.ONLINE_ONLY), NOW)
    assert (await segments.find_facts(online, first=10)).total == 0


async def test_racing_writes_leave_the_newest_version(segments: SegmentFactStore) -> None:
    """Builds finishing in any order, the first ones racing to create the document."""
    writes = [
        SegmentFacts("cus_race", v, frozenset({ON}), Decimal(v), order_count=v)
        for v in range(1, 13)
    ]
    random.Random(7).shuffle(writes)
    landed = await asyncio.gather(*(segments.put_facts(w) for w in writes))
    stored = (await segments.get_facts(["cus_race"]))["cus_race"]
    assert stored.version == 12
    assert stored.order_count == 12
    assert landed[[w.version for w in writes].index(12)] is True


async def test_a_tombstone_hides_the_person_and_refuses_older_builds(
    segments: SegmentFactStore,
) -> None:
    await seeded(segments)
    in_store = CustomerFilter(channel=ChannelMix.IN_STORE_ONLY)
    assert await segments.put_facts(tombstone("cus_b", 2))
    assert await members(segments, in_store) == {"d"}
    # A build that read the profile before it was retired finishes late: ignored.
    assert not await segments.put_facts(PEOPLE[1])
    assert await members(segments, in_store) == {"d"}
    assert (await segments.get_facts(["cus_b"]))["cus_b"] == tombstone("cus_b", 2)
    # Rebuilt after its identities came back (an unmerge): a newer version, live again.
    revived = SegmentFacts("cus_b", 3, frozenset({IN}), Decimal("45.50"), order_count=1)
    assert await segments.put_facts(revived)
    assert await members(segments, in_store) == {"b", "d"}


@pytest.mark.parametrize(
    ("where", "argument"),
    [
        (CustomerFilter(), "filter"),
        (CustomerFilter(any=()), "filter.any"),
        (CustomerFilter(all=(CustomerFilter(),)), "filter.all[0]"),
        (CustomerFilter(order_count=IntRange(min=5, max=2)), "filter.orderCount"),
        (CustomerFilter(order_count=IntRange()), "filter.orderCount"),
        (
            CustomerFilter(lifetime_value=AmountRange(Decimal("10.01"), Decimal("10"))),
            "filter.lifetimeValue",
        ),
        (CustomerFilter(last_order=When(within_days=-1)), "filter.lastOrder.withinDays"),
        (CustomerFilter(first_order=When()), "filter.firstOrder"),
        (CustomerFilter(last_order=When(within_days=10, not_within_days=30)), "filter.lastOrder"),
        (CustomerFilter(bought_skus=tuple(f"SKU-{i}" for i in range(101))), "filter.boughtSkus"),
        (CustomerFilter(bought_at_store=()), "filter.boughtAtStore"),
        (CustomerFilter(channel=ChannelMix.NONE), "filter.channel"),
    ],
)
def test_bad_filters_are_refused_naming_the_argument(where: CustomerFilter, argument: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        build(where, NOW)
    assert refused.value.extensions["argument"] == argument


def test_a_hundred_skus_are_fine() -> None:
    build(CustomerFilter(bought_skus=tuple(f"SKU-{i}" for i in range(100))), NOW)


@pytest.mark.mongo
@pytest.mark.parametrize("backend", ["secantus"], indirect=True)
async def test_mongo_has_an_index_for_every_filter_field(mongo_backend: MongoBackend) -> None:
    port = MongoSegments(mongo_backend)
    await port.prepare()
    indexes = await mongo_backend.collection("segment_facts").index_information()
    keyed = {tuple(k for k, _ in spec["key"]) for spec in indexes.values()}
    assert {("live", f.value) for f in Field} <= keyed


async def test_a_time_without_a_zone_is_utc(segments: SegmentFactStore) -> None:
    await seeded(segments)
    naive = CustomerFilter(first_order=When(after=datetime(2026, 2, 1, 12, 0)))
    assert await members(segments, naive) == {"b", "f"}


def test_every_filter_field_is_a_fact() -> None:
    facts = PEOPLE[0]
    for field in Field:
        getattr(facts, field.value)


async def test_a_tombstone_keeps_nothing_about_the_person(segments: SegmentFactStore) -> None:
    await seeded(segments)
    assert await segments.put_facts(tombstone("cus_c", 5))
    assert (await segments.get_facts(["cus_c"]))["cus_c"] == tombstone("cus_c", 5)


@pytest.mark.mongo
@pytest.mark.parametrize("backend", ["secantus"], indirect=True)
async def test_a_mongo_tombstone_is_the_id_and_version_only(mongo_backend: MongoBackend) -> None:
    port = MongoSegments(mongo_backend)
    await port.prepare()
    await port.put_facts(PEOPLE[2])
    await port.put_facts(tombstone("cus_c", 5))
    raw = await mongo_backend.collection("segment_facts").find_one({"_id": "cus_c"})
    assert raw == {"_id": "cus_c", "version": 5, "live": False}


async def test_buyers_between_finds_the_period_s_buyers_with_their_history(
    segments: SegmentFactStore,
) -> None:
    from resolvers.store.segments import OrderFact, OrderLine

    def fact(key: str, channel: Channel, when: datetime) -> OrderFact:
        line = OrderLine("SKU-1", 2, Decimal("19.90"))
        return OrderFact(key, channel, "L1", when, Decimal("19.90"), "USD", (line,))

    early = fact("shopify:1", ON, at(2025, 12, 31))
    inside = fact("square:2", IN, at(2026, 1, 15))
    buyer = SegmentFacts("cus_in", 1, frozenset({ON, IN}), orders=(early, inside))
    before = SegmentFacts("cus_out", 1, frozenset({ON}), orders=(early,))
    await segments.put_facts(buyer)
    await segments.put_facts(before)
    await segments.put_facts(tombstone("cus_gone", 2))
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    found = await segments.buyers_between(since, until)
    assert [f.profile_id for f in found] == ["cus_in"]
    # The whole history comes back, the order before the period included, exactly.
    assert found[0].orders == (early, inside)
    # The end is exclusive.
    assert await segments.buyers_between(since, at(2026, 1, 15)) == []
