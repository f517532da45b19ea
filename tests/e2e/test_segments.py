"""``customerSegment`` over the whole demo stack: exactly the people the demo world says buy
only in store, paged with the total, served from the store without one upstream call, and
for internal tokens only."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.records import Channel, Source
from resolvers.store import Store
from sandboxes.demo import DemoWorld
from tests.e2e.conftest import Demo
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

SEGMENT = """
query($filter: CustomerFilter!, $first: Int, $after: String) {
  customerSegment(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id stats { online { orderCount } inStore { orderCount } } } }
  }
}
"""
IN_STORE_ONLY = {"channel": "IN_STORE_ONLY"}


def in_store_only_people(world: DemoWorld) -> set[str]:
    """The people (world ids) whose every order the gateway can attribute to them was in a
    store: a Square sale with the customer attached, or a Shopify order with a customer or
    an email (a till sale with neither names nobody, to anyone)."""
    channels: dict[str, set[Channel]] = {}
    for s in world.shopify_orders:
        if s.person_id and (s.customer_id is not None or s.email):
            channels.setdefault(s.person_id, set()).add(Channel(s.channel.value))
    for q in world.square_orders:
        if q.person_id and q.customer_id is not None:
            channels.setdefault(q.person_id, set()).add(Channel.IN_STORE)
    return {pid for pid, seen in channels.items() if seen == {Channel.IN_STORE}}


async def profiles_of(store: Store, world: DemoWorld, people: set[str]) -> set[str]:
    """The unified profiles the gateway keeps those people in, by their vendor records."""
    keys = [
        key
        for person in world.people
        if person.id in people
        for key in (
            *(
                [(Source("shopify"), f"gid://shopify/Customer/{person.shopify_customer_id}")]
                if person.shopify_customer_id is not None
                else []
            ),
            *((Source("square"), sid) for sid in person.square_customer_ids),
        )
    ]
    found = await store.identities.get_identities(keys)
    return {identity.profile_id for identity in found.values()}


async def segment(demo: Demo, filter: dict[str, object], **page: object) -> dict[str, object]:
    body = await demo.gql(SEGMENT, variables={"filter": filter, **page})
    assert "errors" not in body, body
    answer: dict[str, object] = body["data"]["customerSegment"]
    return answer


async def every_member(demo: Demo, filter: dict[str, object], first: int) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = await segment(demo, filter, first=first, after=after)
        edges = page["edges"]
        assert isinstance(edges, list)
        ids += [e["node"]["id"] for e in edges]
        info = page["pageInfo"]
        assert isinstance(info, dict)
        if not info["hasNextPage"]:
            return ids
        after = info["endCursor"]


async def test_in_store_only_is_exactly_the_demo_people_who_buy_only_in_store(
    demo: Demo,
) -> None:
    services = demo.app.state.services
    await services.customers.wait_idle()  # the start-up backfill built every profile
    expected = await profiles_of(services.store, demo.world, in_store_only_people(demo.world))
    assert len(expected) >= 5

    demo.app.state.counter.reset()
    first = await segment(demo, IN_STORE_ONLY, first=100)
    assert first["totalCount"] == len(expected)
    edges = first["edges"]
    assert isinstance(edges, list)
    members = {e["node"]["id"] for e in edges}
    assert members == expected
    for edge in edges:
        stats = edge["node"]["stats"]
        assert stats["online"]["orderCount"] == 0
        assert stats["inStore"]["orderCount"] > 0
    assert demo.calls() == 0  # no vendor was asked


def vendor_reads(demo: Demo) -> int:
    """Calls to vendors other than the loyalty writer's background profile updates (which
    the start-up backfill queues and which may still be draining on a loaded machine)."""
    return demo.calls() - demo.app.state.counter.count(operation="update_profile")


async def test_pages_walk_the_segment_in_id_order(demo: Demo) -> None:
    demo.app.state.counter.reset()
    whole = await every_member(demo, IN_STORE_ONLY, first=100)
    paged = await every_member(demo, IN_STORE_ONLY, first=7)
    assert paged == whole == sorted(whole)
    page = await segment(demo, IN_STORE_ONLY, first=7)
    assert page["totalCount"] == len(whole)
    assert vendor_reads(demo) == 0


async def test_and_or_over_the_stack(demo: Demo) -> None:
    """An OR of the two single-channel segments is everyone who did not buy in both, less
    those who never bought; the AND of both is nobody."""
    online = set(await every_member(demo, {"channel": "ONLINE_ONLY"}, first=100))
    in_store = set(await every_member(demo, IN_STORE_ONLY, first=100))
    either = await every_member(
        demo, {"any": [{"channel": "ONLINE_ONLY"}, IN_STORE_ONLY]}, first=100
    )
    assert set(either) == online | in_store
    both = await segment(demo, {"all": [{"channel": "ONLINE_ONLY"}, IN_STORE_ONLY]})
    assert both["totalCount"] == 0
    recent = await segment(
        demo, {"channel": "IN_STORE_ONLY", "lastOrder": {"withinDays": 36500}}, first=100
    )
    assert recent["totalCount"] == len(in_store)


@pytest.mark.parametrize("token", ["demo-storefront", "demo-staff"])
async def test_storefront_and_staff_tokens_are_refused(demo: Demo, token: str) -> None:
    body = await demo.gql(SEGMENT, token=token, variables={"filter": IN_STORE_ONLY})
    assert codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


@pytest.mark.parametrize(
    "filter",
    [
        {},
        {"any": []},
        {"orderCount": {"min": 5, "max": 1}},
        {"lastOrder": {"withinDays": -3}},
        {"boughtSkus": [f"SKU-{i}" for i in range(101)]},
        {"all": [{"channel": "BOTH"}, {}]},
    ],
)
async def test_bad_filters_are_bad_user_input(demo: Demo, filter: dict[str, object]) -> None:
    body = await demo.gql(SEGMENT, variables={"filter": filter})
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_page_size_and_cursor_are_checked(demo: Demo) -> None:
    too_many = await demo.gql(SEGMENT, variables={"filter": IN_STORE_ONLY, "first": 101})
    assert codes(too_many) == ["BAD_USER_INPUT"]
    garbage = await demo.gql(SEGMENT, variables={"filter": IN_STORE_ONLY, "after": "%%%"})
    assert codes(garbage) == ["BAD_USER_INPUT"]


async def test_no_token_is_unauthenticated_and_answers_are_not_kept(demo: Demo) -> None:
    body = await demo.gql(SEGMENT, token=None, variables={"filter": IN_STORE_ONLY})
    assert codes(body) == ["UNAUTHENTICATED"]
    async with demo.http.post(
        demo.url + "/graphql",
        json={"query": SEGMENT, "variables": {"filter": IN_STORE_ONLY, "first": 1}},
        headers={"Authorization": "Bearer demo-internal"},
    ) as resp:
        assert resp.status == 200
        assert resp.headers.get("Cache-Control") == "no-store"
        assert (await resp.json())["data"]["customerSegment"]["totalCount"] > 0


MEMBER = """
query($filter: CustomerFilter!, $after: String) {
  customerSegment(filter: $filter, first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id
      identities { source }
      consent { email { canReceive } sms { canReceive } }
      stats { lifetimeValue { amount } orderCount favouriteLocation { id } }
      loyalty { points tier { name } }
    } }
  }
}
"""


async def nodes(demo: Demo, filter: dict[str, object]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        body = await demo.gql(MEMBER, variables={"filter": filter, "after": after})
        assert "errors" not in body, (filter, body)
        page = body["data"]["customerSegment"]
        found += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(found) == page["totalCount"]
            return found
        after = page["pageInfo"]["endCursor"]


async def test_every_member_meets_the_filter_on_its_own_360(demo: Demo) -> None:
    """Each condition, over the demo's people: the members are exactly those whose 360
    (as the segment serves it) meets it."""
    people = await nodes(demo, {"orderCount": {"min": 0}})
    assert len(people) > 100
    store = next(
        p["stats"]["favouriteLocation"]["id"] for p in people if p["stats"]["favouriteLocation"]
    )
    checks = {
        "lifetimeValue": (
            {"min": "100", "max": "400.5"},
            lambda p: 100 <= float(p["stats"]["lifetimeValue"]["amount"]) <= 400.5,
        ),
        "orderCount": ({"min": 3}, lambda p: p["stats"]["orderCount"] >= 3),
        "emailConsent": (True, lambda p: p["consent"]["email"]["canReceive"]),
        "smsConsent": (False, lambda p: not p["consent"]["sms"]["canReceive"]),
        "inSource": ("KLAVIYO", lambda p: "KLAVIYO" in {i["source"] for i in p["identities"]}),
        "favouriteStore": (
            store,
            lambda p: (p["stats"]["favouriteLocation"] or {}).get("id") == store,
        ),
        "points": ({"min": 1}, lambda p: p["loyalty"]["points"] >= 1),
        "loyaltyTier": (["Member"], lambda p: p["loyalty"]["tier"]["name"] == "Member"),
    }
    for name, (value, holds) in checks.items():
        found = {p["id"] for p in await nodes(demo, {name: value})}
        assert found == {p["id"] for p in people if holds(p)}, name
        assert 0 < len(found) < len(people), name  # the check tells people apart
