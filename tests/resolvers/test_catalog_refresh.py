"""``refresh_catalog``: every catalog source joined on the SKU, a failed source's ids kept,
entries gone upstream removed only after a complete refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from connectors.errors import UpstreamError
from connectors.records import CatalogVariant, Source
from connectors.registry import ConnectorSet
from gateway.store import MemoryStore
from resolvers.stock.catalog import refresh_catalog
from resolvers.store import Store
from tests.store.builders import T0

SHOPIFY, SQUARE = Source("shopify"), Source("square")


@dataclass
class FakeCatalog:
    source: Source
    pages: list[list[CatalogVariant]]
    fail: bool = False
    reads: list[int] = field(default_factory=list)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def circuit_state(self) -> str:
        return "closed"

    async def list_variants(self) -> AsyncIterator[list[CatalogVariant]]:
        self.reads.append(1)
        for page in self.pages:
            yield page
        if self.fail:
            raise UpstreamError("down", source=self.source, operation="catalog")


@dataclass
class Services:
    store: Store
    connectors: ConnectorSet


def shopify(sku: str, title: str, price: str | None = "28.00") -> CatalogVariant:
    return CatalogVariant(
        source=SHOPIFY,
        sku=sku,
        title=title,
        refs={"variant": f"gid://shopify/ProductVariant/{sku}", "inventory_item": f"II-{sku}"},
        price=Decimal(price) if price else None,
    )


def square(sku: str, title: str, price: str = "27.00") -> CatalogVariant:
    return CatalogVariant(
        source=SQUARE,
        sku=sku,
        title=title,
        refs={"variation": f"SQ-{sku}"},
        price=Decimal(price),
        currency="USD",
    )


async def test_sources_join_on_the_sku_with_shopify_naming_first() -> None:
    store = MemoryStore()
    sq = FakeCatalog(SQUARE, [[square("TEE-M", "Tee - M"), square("CAP", "Cap")]])
    sh = FakeCatalog(SHOPIFY, [[shopify("TEE-M", "Organic Tee - M")], [shopify("HAT", "Hat")]])
    services = Services(store, ConnectorSet([sq, sh]))
    summary = await refresh_catalog(services)
    assert summary.complete
    assert (summary.skus, summary.changed, summary.removed) == (3, 3, 0)
    cap, hat, tee = await store.catalog.get_entries(["TEE-M", "CAP", "HAT"])
    assert tee.title == "Organic Tee - M"
    # Shopify's price, in the currency only Square names.
    assert (tee.price, tee.currency) == (Decimal("28.00"), "USD")
    assert tee.refs == {
        "shopify.variant": "gid://shopify/ProductVariant/TEE-M",
        "shopify.inventory_item": "II-TEE-M",
        "square.variation": "SQ-TEE-M",
    }
    assert cap.refs == {"square.variation": "SQ-CAP"}
    assert hat.currency is None
    again = await refresh_catalog(services)
    assert (again.skus, again.changed, again.removed) == (3, 0, 0)


async def test_a_failed_source_keeps_its_ids_and_nothing_is_removed() -> None:
    store = MemoryStore()
    sq = FakeCatalog(SQUARE, [[square("TEE-M", "Tee - M"), square("CAP", "Cap")]])
    sh = FakeCatalog(SHOPIFY, [[shopify("TEE-M", "Organic Tee - M")]])
    services = Services(store, ConnectorSet([sq, sh]))
    await refresh_catalog(services)
    sq.fail, sq.pages = True, []
    summary = await refresh_catalog(services)
    assert summary.failed_sources == ("square",)
    assert summary.removed == 0
    (cap, tee) = await store.catalog.get_entries(["TEE-M", "CAP"])
    assert tee.refs["square.variation"] == "SQ-TEE-M"
    assert cap.sku == "CAP"
    assert await store.catalog.skus_for_refs("square.variation", ["SQ-TEE-M"]) == {
        "SQ-TEE-M": "TEE-M"
    }


async def test_a_complete_refresh_removes_what_is_gone_upstream() -> None:
    store = MemoryStore()
    sh = FakeCatalog(SHOPIFY, [[shopify("TEE-M", "Tee"), shopify("OLD", "Old")]])
    services = Services(store, ConnectorSet([sh]))
    await refresh_catalog(services, now=T0)
    sh.pages = [[shopify("TEE-M", "Tee")]]
    summary = await refresh_catalog(services, now=T0 + timedelta(minutes=10))
    assert summary.removed == 1
    assert [e.sku for e in await store.catalog.search_entries(None)] == ["TEE-M"]


@dataclass
class ParsingCatalog(FakeCatalog):
    """A connector that resolves its own ids while parsing webhooks: it keeps what it is
    handed, as the Shopify and Square connectors do."""

    adopted: list[dict[str, dict[str, str]]] = field(default_factory=list)

    def adopt_sku_map(self, refs: Mapping[str, Mapping[str, str]]) -> int:
        self.adopted.append({kind: dict(ids) for kind, ids in refs.items()})
        return sum(len(ids) for ids in refs.values())


async def test_each_parsing_connector_is_handed_its_own_ids_of_the_one_map() -> None:
    shop = ParsingCatalog(SHOPIFY, [[shopify("TEE-1", "Tee"), shopify("CAP-1", "Cap")]])
    pos = ParsingCatalog(SQUARE, [[square("TEE-1", "Tee (store)")]])
    services = Services(MemoryStore(), ConnectorSet([shop, pos]))
    await refresh_catalog(services, now=T0)
    assert shop.adopted == [
        {
            "variant": {
                "gid://shopify/ProductVariant/TEE-1": "TEE-1",
                "gid://shopify/ProductVariant/CAP-1": "CAP-1",
            },
            "inventory_item": {"II-TEE-1": "TEE-1", "II-CAP-1": "CAP-1"},
        }
    ]
    assert pos.adopted == [{"variation": {"SQ-TEE-1": "TEE-1"}}]
