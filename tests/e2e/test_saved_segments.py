"""Saved segments over the demo stack: saved and read back over HTTP, refused to storefront
and staff tokens on every field, and a signed Shopify order webhook that makes an in-store-only
buyer buy online moves them out, which a `segmentChanged` subscriber hears over a WebSocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from connectors.records import Source
from tests.e2e.conftest import Demo, boot
from tests.e2e.ws import OperationEnded, connect
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

SAVE = """
mutation($name: String!, $filter: CustomerFilter!) {
  saveSegment(name: $name, filter: $filter) { id name filter createdAt memberCount }
}
"""
READ = """
query($id: ID!) {
  segment(id: $id) {
    id name filter memberCount
    members(first: 100) { totalCount edges { node { id } } }
  }
  segments { id name }
}
"""
CHANGED = """
subscription($id: ID!) { segmentChanged(id: $id) { segmentId customerId change at } }
"""
IN_STORE_ONLY = {"channel": "IN_STORE_ONLY"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack() -> AsyncIterator[Demo]:
    """A stack of this module's own: it saves segments and places orders."""
    async for demo in boot():
        await demo.app.state.services.customers.wait_idle()
        yield demo


async def save(stack: Demo, name: str, filter: dict[str, Any]) -> dict[str, Any]:
    body = await stack.gql(SAVE, variables={"name": name, "filter": filter})
    assert "errors" not in body, body
    saved: dict[str, Any] = body["data"]["saveSegment"]
    return saved


async def test_saved_and_read_back_with_its_members_now(stack: Demo) -> None:
    saved = await save(
        stack, "In-store, lapsed", {**IN_STORE_ONLY, "lastOrder": {"notWithinDays": 0}}
    )
    assert saved["filter"] == {"channel": "IN_STORE_ONLY", "lastOrder": {"notWithinDays": 0}}
    body = await stack.gql(READ, variables={"id": saved["id"]})
    assert "errors" not in body, body
    segment = body["data"]["segment"]
    assert segment["name"] == "In-store, lapsed"
    assert segment["memberCount"] == segment["members"]["totalCount"] == saved["memberCount"]
    assert segment["memberCount"] > 0
    assert {"id": saved["id"], "name": "In-store, lapsed"} in body["data"]["segments"]
    again = await stack.gql(SAVE, variables={"name": "In-store, lapsed", "filter": IN_STORE_ONLY})
    assert codes(again) == ["CONFLICT"]
    empty = await stack.gql(SAVE, variables={"name": "Nothing", "filter": {}})
    assert codes(empty) == ["BAD_USER_INPUT"]
    gone = await stack.gql(
        "mutation($id: ID!) { deleteSegment(id: $id) }", variables={"id": saved["id"]}
    )
    assert gone["data"] == {"deleteSegment": True}
    after = await stack.gql(READ, variables={"id": saved["id"]})
    assert after["data"]["segment"] is None


@pytest.mark.parametrize("token", ["demo-storefront", "demo-staff"])
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (SAVE, {"name": "x", "filter": IN_STORE_ONLY}),
        ('mutation { deleteSegment(id: "x") }', {}),
        ("{ segments { id } }", {}),
        ('{ segment(id: "x") { id } }', {}),
    ],
)
async def test_storefront_and_staff_are_refused_every_field(
    stack: Demo, token: str, query: str, variables: dict[str, Any]
) -> None:
    body = await stack.gql(query, token=token, variables=variables)
    assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("token", ["demo-storefront", "demo-staff"])
async def test_storefront_and_staff_may_not_subscribe(stack: Demo, token: str) -> None:
    async with connect(stack.url, token=token) as client:
        refused = await client.subscribe(CHANGED, {"id": "x"})
        with pytest.raises(OperationEnded) as ended:
            await refused.data("segmentChanged")
    assert ended.value.codes == ["FORBIDDEN"]


async def test_an_unknown_segment_is_not_found_to_a_subscriber(stack: Demo) -> None:
    async with connect(stack.url, token="demo-internal") as client:
        refused = await client.subscribe(CHANGED, {"id": "no-such-segment"})
        with pytest.raises(OperationEnded) as ended:
            await refused.data("segmentChanged")
    assert ended.value.codes == ["NOT_FOUND"]


async def in_store_buyer_on_shopify(stack: Demo, members: list[str]) -> tuple[str, int]:
    """A member of IN_STORE_ONLY known to Shopify: their profile id and Shopify customer id."""
    identities = stack.app.state.services.store.identities
    linked = await identities.identities_of(members)
    for profile_id in members:
        for identity in linked.get(profile_id, []):
            if identity.source == Source("shopify"):
                return profile_id, int(identity.source_id.rsplit("/", 1)[-1])
    raise AssertionError("no in-store-only buyer known to Shopify in the demo")


async def test_an_online_order_moves_a_buyer_out_and_the_subscriber_hears_left(
    stack: Demo,
) -> None:
    saved = await save(stack, "In-store only", IN_STORE_ONLY)
    read = await stack.gql(READ, variables={"id": saved["id"]})
    members = [e["node"]["id"] for e in read["data"]["segment"]["members"]["edges"]]
    profile_id, shopify_id = await in_store_buyer_on_shopify(stack, members)
    sku = stack.world.stock[0].sku
    async with connect(stack.url, token="demo-internal") as client:
        live = await client.subscribe(CHANGED, {"id": saved["id"]})
        await stack.app.state.services.events.subscribers(f"segment.{saved['id']}", 1)
        sale = await stack.control(
            "shopify",
            "POST",
            "/_sandbox/sales",
            json={"source_name": "web", "customer_id": shopify_id, "lines": [{"sku": sku}]},
        )
        assert sale["deliveries"][0]["status"] == 200
        event = await live.data("segmentChanged")
    assert event["segmentId"] == saved["id"]
    assert (event["customerId"], event["change"]) == (profile_id, "LEFT")
    after = await stack.gql(READ, variables={"id": saved["id"]})
    assert after["data"]["segment"]["memberCount"] == saved["memberCount"] - 1
