"""Reading stock: ``ProductVariant`` (a federation entity keyed by ``sku``),
``productVariant``, ``productVariants`` and ``stock``.

Everything is served from the store (catalog entries and stock levels, through per-request
DataLoaders, see :mod:`resolvers.stock.view`) and the cached location directory: a read makes
no upstream call. Storefront, staff and internal tokens may read it; anonymous callers may
not.
"""

from __future__ import annotations

import asyncio

import strawberry

from resolvers.context import RequestContext
from resolvers.errors import Forbidden, Unauthenticated
from resolvers.stock import view
from resolvers.stock.nearby import check_radius, nearby
from resolvers.store.catalog import CatalogEntry
from schema.customers import Money, PageInfo
from schema.locations import READERS, GeoPointInput, Location, point_of
from schema.permissions import guarded
from schema.stock import StockLevel, stock_level_from

Info = strawberry.Info[RequestContext, None]


async def _placed(
    info: Info,
    skus: list[str],
    *,
    near: GeoPointInput | None,
    radius_km: float | None,
    pickup_only: bool = False,
    location_ids: list[strawberry.ID] | None = None,
) -> list[StockLevel]:
    point = point_of(near)
    radius = check_radius(radius_km, point)
    ctx = info.context
    # Side by side, so the loader reads every SKU in one store call.
    per_sku = await asyncio.gather(*(view.stock_of(ctx, sku) for sku in skus))
    levels = [level for found in per_sku for level in found]
    locations = await ctx.services.locations.all()
    placed = view.place(
        levels,
        locations,
        near=point,
        radius_km=radius,
        pickup_only=pickup_only,
        location_ids=[str(i) for i in location_ids] if location_ids is not None else None,
    )
    return [
        stock_level_from(p.level, location=p.location, distance_km=p.distance_km) for p in placed
    ]


@strawberry.federation.type(
    keys=["sku"],
    description="A sellable variant, by SKU (the join key between Shopify variants and "
    "Square item variations), with its stock at every location.",
)
class ProductVariant:
    sku: str
    entry: strawberry.Private[CatalogEntry | None] = None

    @strawberry.field(description="The variant's title, e.g. `Organic Cotton Tee - Black / M`.")
    def title(self) -> str | None:
        return self.entry.title if self.entry else None

    @strawberry.field(description="Null when no source names the price's currency.")
    def price(self) -> Money | None:
        entry = self.entry
        if entry is None or entry.price is None or entry.currency is None:
            return None
        return Money(amount=entry.price, currency_code=entry.currency)

    @strawberry.field(
        description="Levels at each location. With `near`: nearest first, each with "
        "`distanceKm`, within `radiusKm` if given; `pickupOnly`: only locations that offer "
        "pickup; `locationIds`: only those."
    )
    async def stock(
        self,
        info: Info,
        near: GeoPointInput | None = None,
        radius_km: float | None = None,
        pickup_only: bool = False,
        location_ids: list[strawberry.ID] | None = None,
    ) -> list[StockLevel]:
        return await _placed(
            info,
            [self.sku],
            near=near,
            radius_km=radius_km,
            pickup_only=pickup_only,
            location_ids=location_ids,
        )

    @strawberry.field(description="Units available across every location.")
    async def total_available(self, info: Info) -> int:
        return view.total_available(await view.stock_of(info.context, self.sku))

    @strawberry.field(
        description="Locations that offer pickup and have a unit sellable for pickup now; "
        "with `near`, nearest first with `distanceKm`, within `radiusKm` if given."
    )
    async def pickup_locations(
        self, info: Info, near: GeoPointInput | None = None, radius_km: float | None = None
    ) -> list[Location]:
        point = point_of(near)
        radius = check_radius(radius_km, point)
        ctx = info.context
        sellable = {
            level.location_id
            for level in await view.stock_of(ctx, self.sku)
            if level.sellable_for_pickup > 0
        }
        records = [r for r in (await ctx.services.locations.all()).values() if r.id in sellable]
        found = nearby(records, near=point, radius_km=radius, pickup_only=True)
        return [Location.from_nearby(n) for n in found]

    @classmethod
    async def resolve_reference(cls, info: Info, sku: str) -> ProductVariant | None:
        viewer = info.context.viewer
        if not viewer.authenticated:
            raise Unauthenticated("A bearer token is required.")
        if viewer.role not in READERS:
            raise Forbidden("variants need a storefront, staff or internal token")
        entry = await view.entry_of(info.context, sku)
        return cls(sku=sku, entry=entry) if entry else None


@strawberry.type
class ProductVariantEdge:
    cursor: str
    node: ProductVariant


@strawberry.type
class ProductVariantConnection:
    edges: list[ProductVariantEdge]
    page_info: PageInfo


@strawberry.type
class StockQuery:
    @strawberry.field(
        description="One variant by exact SKU; null if the catalog does not know it.",
        extensions=guarded(*READERS),
    )
    async def product_variant(self, info: Info, sku: str) -> ProductVariant | None:
        entry = await view.entry_of(info.context, sku)
        return ProductVariant(sku=sku, entry=entry) if entry else None

    @strawberry.field(
        description="Variants whose SKU or title starts with `query` (case-insensitive; "
        "all without it), in SKU order. `first` is 1 to 100.",
        extensions=guarded(*READERS),
    )
    async def product_variants(
        self, info: Info, query: str | None = None, first: int = 20, after: str | None = None
    ) -> ProductVariantConnection:
        view.check_variants_first(first)
        start = view.decode_cursor(after) if after else None
        found = await info.context.services.store.catalog.search_entries(
            query.strip() if query else None, after=start, limit=first + 1
        )
        page = found[:first]
        edges = [
            ProductVariantEdge(
                cursor=view.encode_cursor(e.sku), node=ProductVariant(sku=e.sku, entry=e)
            )
            for e in page
        ]
        return ProductVariantConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(found) > first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="Levels of up to 100 SKUs; with `near`, nearest first with "
        "`distanceKm`, within `radiusKm` if given; `locationIds`: only those.",
        extensions=guarded(*READERS),
    )
    async def stock(
        self,
        info: Info,
        skus: list[str],
        location_ids: list[strawberry.ID] | None = None,
        near: GeoPointInput | None = None,
        radius_km: float | None = None,
    ) -> list[StockLevel]:
        wanted = view.check_skus(skus)
        return await _placed(
            info, wanted, near=near, radius_km=radius_km, location_ids=location_ids
        )


__all__ = ["ProductVariant", "StockQuery"]
