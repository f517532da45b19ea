"""``_entities`` as a router sends it costs what the ordinary query for the same entities
costs: the reference resolvers load through the same per-request DataLoaders, so a router
resolving 100 customers (or variants) of another subgraph's list makes the same upstream
calls as a client asking for them directly, not one round per entity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.e2e.conftest import Demo, boot

CUSTOMER_FIELDS = (
    "id stats { orderCount } marketing { lastOpenedAt } orders(first: 3) { totalCount } "
    "loyalty { points }"
)
VARIANT_FIELDS = "sku title totalAvailable stock { locationId available }"


@pytest_asyncio.fixture
async def demo() -> AsyncIterator[Demo]:
    """A stack of its own (the test empties the profile cache), whose alias limit lets one
    ordinary query name 100 customers; the loyalty property sync is off (its writes to
    Klaviyo would land in whichever window is being counted)."""
    async for stack in boot(max_aliases=100, stock_warmup=True, loyalty_sync_interval_seconds=0):
        await stack.app.state.stock_scheduler.warmed.wait()
        yield stack


def upstream(demo: Demo) -> dict[tuple[str, str], int]:
    return {
        (connector, operation): stats["requests"]
        for connector, operations in demo.app.state.counter.snapshot().items()
        for operation, stats in operations.items()
    }


async def cold(demo: Demo, ids: list[str]) -> None:
    """Forget the built profiles, so serving them reads every source again."""
    for pid in ids:
        await demo.app.state.services.store.profiles.delete_profile(pid)
    demo.app.state.counter.reset()


async def ok(demo: Demo, query: str, **variables: Any) -> dict[str, Any]:
    body = await demo.gql(query, variables=variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_a_hundred_customer_representations_cost_what_one_query_for_them_costs(
    demo: Demo,
) -> None:
    store = demo.app.state.services.store
    found = {
        p.id
        for letter in "abcdefghijklmnopqrstuvwxyz"
        for p in await store.profiles.find_profiles(name_prefix=letter, limit=1000)
    }
    ids = sorted(found)[:100]
    assert len(ids) == 100

    await cold(demo, ids)
    entities = await ok(
        demo,
        f"query($reps: [_Any!]!) {{ _entities(representations: $reps) {{ "
        f"... on Customer {{ {CUSTOMER_FIELDS} }} }} }}",
        reps=[{"__typename": "Customer", "id": pid} for pid in ids],
    )
    by_entities = upstream(demo)

    await cold(demo, ids)
    aliased = " ".join(
        f'c{n}: customer(id: "{pid}") {{ {CUSTOMER_FIELDS} }}' for n, pid in enumerate(ids)
    )
    direct = await ok(demo, f"{{ {aliased} }}")
    by_query = upstream(demo)

    assert [e["id"] for e in entities["_entities"]] == ids
    assert entities["_entities"] == [direct[f"c{n}"] for n in range(len(ids))]
    assert by_entities == by_query
    # And it is batched at all: one call per source and kind of data, plus pages.
    assert by_entities[("shopify", "customers_by_ids")] == 1, by_entities
    assert sum(by_entities.values()) <= 25, by_entities


async def test_variant_representations_read_the_store_as_one_page_of_variants_does(
    demo: Demo, monkeypatch: Any
) -> None:
    """Variants cost no upstream call either way; what must match is the store's reads:
    one batch of catalog entries and one of levels, not one per representation."""
    services = demo.app.state.services
    reads: list[tuple[str, int]] = []
    for table, method in [("catalog", "get_entries"), ("inventory", "get_stock")]:
        real = getattr(getattr(services.store, table), method)

        async def spy(skus: list[str], *args: Any, _real: Any = real, _name: str = method) -> Any:
            reads.append((_name, len(skus)))
            return await _real(skus, *args)

        monkeypatch.setattr(getattr(services.store, table), method, spy)

    page = await ok(
        demo, f"{{ productVariants(first: 100) {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }} }}"
    )
    skus = [edge["node"]["sku"] for edge in page["productVariants"]["edges"]]
    assert len(skus) > 50
    by_page = sorted(r for r in reads if r[0] == "get_stock")
    reads.clear()
    demo.app.state.counter.reset()

    entities = await ok(
        demo,
        f"query($reps: [_Any!]!) {{ _entities(representations: $reps) {{ "
        f"... on ProductVariant {{ {VARIANT_FIELDS} }} }} }}",
        reps=[{"__typename": "ProductVariant", "sku": sku} for sku in skus],
    )
    assert entities["_entities"] == [edge["node"] for edge in page["productVariants"]["edges"]]
    assert sorted(r for r in reads if r[0] == "get_stock") == by_page
    # The representations' catalog entries are read in one batch.
    assert [r for r in reads if r[0] == "get_entries"] == [("get_entries", len(skus))]
    assert demo.app.state.counter.count() == 0
