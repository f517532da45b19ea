"""The :class:`~resolvers.store.CatalogStore` contract: one entry per SKU, prefix search on
SKU and title with keyset pages, the vendor-id join, and removal of what is gone upstream; on
every backend (see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from resolvers.store import CatalogEntry, CatalogStore
from tests.store.builders import T0

SHOPIFY_VARIANT = "shopify.variant"
SQUARE_VARIATION = "square.variation"


def entry(sku: str, title: str, **kw: object) -> CatalogEntry:
    refs = kw.pop("refs", {SHOPIFY_VARIANT: f"gid://shopify/ProductVariant/{sku}"})
    return CatalogEntry(
        sku=sku,
        title=title,
        seen_at=kw.pop("seen_at", T0),  # type: ignore[arg-type]
        refs=refs,  # type: ignore[arg-type]
        price=kw.pop("price", Decimal("28.00")),  # type: ignore[arg-type]
        currency=kw.pop("currency", "USD"),  # type: ignore[arg-type]
    )


CATALOG = [
    entry("TEE-ORG-BLK-M", "Organic Cotton Tee - Black / M", refs={SQUARE_VARIATION: "SQV1"}),
    entry("TEE-ORG-BLK-S", "Organic Cotton Tee - Black / S"),
    entry("TEE-PKT-NVY-M", "Pocket Tee - Navy / M", price=Decimal("32.00")),
    entry("HOOD-ZIP-GRY-L", "Zip Hoodie - Grey / L", price=None, currency=None),
    entry("CAP-WOOL-OAT", "Wool Cap - Oat", refs={}),
]


async def test_entries_round_trip_by_sku(catalog: CatalogStore) -> None:
    assert await catalog.put_entries(CATALOG) == 5
    got = await catalog.get_entries(["TEE-PKT-NVY-M", "HOOD-ZIP-GRY-L", "NOPE", "TEE-PKT-NVY-M"])
    assert got == sorted([CATALOG[3], CATALOG[2]], key=lambda e: e.sku)
    assert got[1].price == Decimal("32.00")
    assert got[0].price is None
    assert got[0].currency is None
    assert await catalog.get_entries([]) == []
    assert await catalog.count_entries() == 5


async def test_put_replaces_by_sku_and_counts_only_changes(catalog: CatalogStore) -> None:
    await catalog.put_entries(CATALOG)
    later = T0 + timedelta(hours=1)
    same = [entry(e.sku, e.title, refs=e.refs, price=e.price, currency=e.currency, seen_at=later)
            for e in CATALOG]  # fmt: skip
    assert await catalog.put_entries(same) == 0
    renamed = entry("TEE-ORG-BLK-S", "Organic Tee - Black / S", seen_at=later)
    assert await catalog.put_entries([renamed]) == 1
    assert await catalog.count_entries() == 5
    (got,) = await catalog.get_entries(["TEE-ORG-BLK-S"])
    assert got.title == "Organic Tee - Black / S"
    assert got.seen_at == later
    # The old title no longer matches, the new one does.
    assert [e.sku for e in await catalog.search_entries("organic cotton")] == ["TEE-ORG-BLK-M"]
    assert [e.sku for e in await catalog.search_entries("organic tee")] == ["TEE-ORG-BLK-S"]


async def test_prefix_search_on_sku_or_title_case_insensitive(catalog: CatalogStore) -> None:
    await catalog.put_entries(CATALOG)

    async def skus(prefix: str | None) -> list[str]:
        return [e.sku for e in await catalog.search_entries(prefix)]

    assert await skus("tee-org") == ["TEE-ORG-BLK-M", "TEE-ORG-BLK-S"]
    assert await skus("TEE-") == ["TEE-ORG-BLK-M", "TEE-ORG-BLK-S", "TEE-PKT-NVY-M"]
    assert await skus("pocket") == ["TEE-PKT-NVY-M"]
    assert await skus("ZIP HOODIE") == ["HOOD-ZIP-GRY-L"]
    # A prefix, not a substring; regex characters are literal.
    assert await skus("cotton") == []
    assert await skus("tee.") == []
    assert await skus("t.*") == []
    assert await skus(None) == sorted(e.sku for e in CATALOG)
    assert await skus("") == sorted(e.sku for e in CATALOG)


async def test_keyset_pages_never_skip_or_repeat(catalog: CatalogStore) -> None:
    await catalog.put_entries(CATALOG)
    first = await catalog.search_entries(None, limit=2)
    assert [e.sku for e in first] == ["CAP-WOOL-OAT", "HOOD-ZIP-GRY-L"]
    # An entry added before the cursor does not shift the next page.
    await catalog.put_entries([entry("AAA-FIRST", "Alpha")])
    second = await catalog.search_entries(None, after=first[-1].sku, limit=2)
    assert [e.sku for e in second] == ["TEE-ORG-BLK-M", "TEE-ORG-BLK-S"]
    third = await catalog.search_entries(None, after=second[-1].sku, limit=2)
    assert [e.sku for e in third] == ["TEE-PKT-NVY-M"]
    assert await catalog.search_entries(None, after="TEE-PKT-NVY-M") == []
    tees = await catalog.search_entries("tee", after="TEE-ORG-BLK-M", limit=1)
    assert [e.sku for e in tees] == ["TEE-ORG-BLK-S"]
    assert await catalog.search_entries("tee", limit=0) == []


async def test_vendor_ids_join_to_skus(catalog: CatalogStore) -> None:
    await catalog.put_entries(CATALOG)
    assert await catalog.skus_for_refs(SQUARE_VARIATION, ["SQV1", "SQV-unknown"]) == {
        "SQV1": "TEE-ORG-BLK-M"
    }
    gid = "gid://shopify/ProductVariant/TEE-PKT-NVY-M"
    assert await catalog.skus_for_refs(SHOPIFY_VARIANT, [gid]) == {gid: "TEE-PKT-NVY-M"}
    # The kind matters: a Square id is not a Shopify one.
    assert await catalog.skus_for_refs(SHOPIFY_VARIANT, ["SQV1"]) == {}
    # A ref that moved to another SKU joins to its new SKU only.
    await catalog.put_entries(
        [entry("TEE-ORG-BLK-M", "Organic Cotton Tee - Black / M", refs={}),
         entry("TEE-NEW", "New Tee", refs={SQUARE_VARIATION: "SQV1"})]
    )  # fmt: skip
    assert await catalog.skus_for_refs(SQUARE_VARIATION, ["SQV1"]) == {"SQV1": "TEE-NEW"}
    assert await catalog.skus_for_refs(SQUARE_VARIATION, []) == {}


async def test_entries_not_seen_since_a_refresh_are_removed(catalog: CatalogStore) -> None:
    await catalog.put_entries(CATALOG)
    refresh = T0 + timedelta(minutes=5)
    await catalog.put_entries([entry("TEE-ORG-BLK-M", CATALOG[0].title, seen_at=refresh)])
    assert await catalog.remove_unseen(refresh) == 4
    assert [e.sku for e in await catalog.search_entries(None)] == ["TEE-ORG-BLK-M"]
    assert await catalog.search_entries("pocket") == []
    assert (
        await catalog.skus_for_refs(SHOPIFY_VARIANT, ["gid://shopify/ProductVariant/TEE-ORG-BLK-S"])
        == {}
    )
    assert await catalog.remove_unseen(refresh) == 0


async def test_concurrent_puts_of_one_sku_leave_one_entry(catalog: CatalogStore) -> None:
    versions = [entry("TEE-RACE", f"Race Tee {i}") for i in range(20)]
    await asyncio.gather(*(catalog.put_entries([v]) for v in versions))
    assert await catalog.count_entries() == 1
    (got,) = await catalog.get_entries(["TEE-RACE"])
    assert got.title in {v.title for v in versions}
    assert [e.sku for e in await catalog.search_entries("race tee")] == ["TEE-RACE"]
