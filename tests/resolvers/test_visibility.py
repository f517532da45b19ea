"""The visibility rule on hand-made profiles: where a person has activity, who may see
them, which orders are shown in full, and name lookups for a store-bound token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.records import Channel, CustomerRecord, LineItem, Money, OrderRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.context import RequestContext, ResolverConfig
from resolvers.customers.profile import (
    MAX_CACHED_ORDERS,
    UnifiedProfile,
    build_profile,
    from_body,
    to_body,
)
from resolvers.customers.queries import lookup_customers
from resolvers.customers.service import utcnow
from resolvers.customers.visibility import (
    is_exact_match,
    may_see_profile,
    order_in_full,
)
from resolvers.events import EventBus
from resolvers.viewer import ANONYMOUS, Role, Viewer

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STAFF_A = Viewer(role=Role.STAFF, location_ids=frozenset({"loc-a"}))
STAFF_ALL = Viewer(role=Role.STAFF, location_ids=frozenset({"*"}))
UNBOUND = Viewer(role=Role.STAFF)
INTERNAL = Viewer(role=Role.INTERNAL)
ROUTER = Viewer(role=Role.ROUTER)


def order(oid: str, loc: str | None, *, day: int = 0, cancelled: bool = False) -> OrderRecord:
    return OrderRecord(
        source=Source("square"),
        id=oid,
        channel=Channel.IN_STORE if loc else Channel.ONLINE,
        created_at=T0 + timedelta(days=day),
        total=Money.of("10", "USD"),
        location_id=loc,
        name=f"#{oid}",
        line_items=(LineItem("TEE-1", "Tee", 1, Money.of("10", "USD")),),
        cancelled=cancelled,
    )


def person(pid: str, *orders: OrderRecord, created_at: str | None = None) -> UnifiedProfile:
    customer = CustomerRecord(
        Source("square"),
        f"sq-{pid}",
        first_name="Ann",
        last_name=pid,
        emails=(f"{pid}@example.com",),
        phones=("+14155550100",),
        location_id=created_at,
    )
    return build_profile(pid, customers=[customer], orders=orders, refreshed_at=T0)


def test_activity_is_every_order_location_and_where_a_pos_created_the_record() -> None:
    p = person(
        "p1",
        order("1", "loc-a"),
        order("2", "loc-b"),
        order("3", None),
        order("4", "loc-c", cancelled=True),
        created_at="loc-d",
    )
    assert p.locations == ["loc-a", "loc-b", "loc-d"]
    assert from_body(to_body(p)).locations == p.locations


def test_an_order_older_than_the_cached_ones_still_counts() -> None:
    recent = [order(str(i), "loc-b", day=i + 10) for i in range(MAX_CACHED_ORDERS)]
    p = person("p1", order("old", "loc-a", day=0), *recent)
    assert all(o.location_id == "loc-b" for o in p.orders)
    assert "loc-a" in p.locations
    assert may_see_profile(STAFF_A, from_body(to_body(p)))


def test_a_body_stored_before_the_field_existed_reads_its_orders() -> None:
    body = to_body(person("p1", order("1", "loc-a")))
    del body["locations"]
    assert from_body(body).locations == ["loc-a"]


def test_who_may_see_whom() -> None:
    here = person("here", order("1", "loc-a"))
    there = person("there", order("2", "loc-b"))
    signed_up_here = person("new", created_at="loc-a")
    own = Viewer(role=Role.STOREFRONT, customer_id="there")
    for viewer, sees in (
        (INTERNAL, {"here", "there", "new"}),
        (STAFF_ALL, {"here", "there", "new"}),
        (STAFF_A, {"here", "new"}),
        (UNBOUND, set()),
        (own, {"there"}),
        (Viewer(role=Role.STOREFRONT), set()),
        (ROUTER, set()),
        (ANONYMOUS, set()),
    ):
        seen = {p.id for p in (here, there, signed_up_here) if may_see_profile(viewer, p)}
        assert seen == sees, viewer
    assert may_see_profile(STAFF_A, there, exact_match=True)
    assert not may_see_profile(ROUTER, there, exact_match=True)


def test_orders_of_the_tokens_stores_in_full_others_as_summaries() -> None:
    p = person("p1", order("a", "loc-a"), order("b", "loc-b"), order("web", None))
    full = {o.id for o in p.orders if order_in_full(STAFF_A, p, o)}
    assert full == {"a"}
    for viewer in (STAFF_ALL, INTERNAL, Viewer(role=Role.STOREFRONT, customer_id="p1")):
        assert all(order_in_full(viewer, p, o) for o in p.orders)


def test_only_an_exact_email_or_phone_is_a_counter_match() -> None:
    emails, phones = ["ann@example.com"], ["+14155550100"]
    for query in (" ANN@example.com ", "(415) 555-0100", "+1 415 555 0100"):
        assert is_exact_match(query, emails, phones, "US"), query
    for query in ("ann", "ann@example", "ann@example.co", "415 555 0101", ""):
        assert not is_exact_match(query, emails, phones, "US"), query


async def test_name_lookup_of_a_store_bound_token_reads_past_other_stores_matches() -> None:
    """Sixty "Ann"s of another store come first in the store's order; the one of the
    token's store is still found, because the pool grows until the page is filled."""
    store = MemoryStore()
    services = compose_services(
        store=store,
        connectors=ConnectorSet([]),
        events=EventBus(),
        config=ResolverConfig(profile_ttl_seconds=3600),
    )
    now = utcnow()
    people = [person(f"a{i:03}", order(f"o{i}", "loc-b")) for i in range(60)]
    people.append(person("z999", order("mine", "loc-a")))
    for p in people:
        p.refreshed_at = now
        await store.profiles.put_profile(services.customers.document(p))

    def ctx(viewer: Viewer) -> RequestContext:
        return RequestContext(viewer=viewer, services=services)

    found = await lookup_customers(ctx(STAFF_A), "ann", 10)
    assert [f.served.profile.id for f in found] == ["z999"]
    assert not found[0].exact_match
    everyone = await lookup_customers(ctx(STAFF_ALL), "ann", 10)
    assert len(everyone) == 10
    by_email = await lookup_customers(ctx(STAFF_A), "a007@example.com", 10)
    assert [(f.served.profile.id, f.exact_match) for f in by_email] == [("a007", True)]
