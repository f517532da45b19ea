"""Reading stock: levels and catalog entries through per-request DataLoaders, and the
location filters applied to them.

Every value comes from the store, never from a vendor: the webhooks, the warmup and
reconciliation keep the store current, so a product page costs no upstream call. A page of
twenty variants asking for their stock is one ``get_stock`` call (the loader collects one
event-loop tick of SKUs), and their catalog entries one ``get_entries`` call.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from connectors.records import LocationRecord
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.model import StockLevel
from resolvers.stock.nearby import Point, haversine_km
from resolvers.store.catalog import CatalogEntry

#: Most SKUs one ``stock`` call may name.
MAX_SKUS = 100
#: Most variants one ``productVariants`` page may hold.
MAX_VARIANTS = 100


@dataclass(frozen=True, slots=True)
class PlacedLevel:
    """A level with its location's record (``None`` if the directory does not know it) and
    its distance from the question's point, when it named one."""

    level: StockLevel
    location: LocationRecord | None = None
    distance_km: float | None = None


async def stock_of(ctx: RequestContext, sku: str) -> list[StockLevel]:
    """Every level of ``sku``, batched with the other SKUs asked for in the same tick."""

    async def load(skus: list[str]) -> list[list[StockLevel]]:
        found: dict[str, list[StockLevel]] = {sku: [] for sku in skus}
        for level in await ctx.services.store.inventory.get_stock(list(dict.fromkeys(skus))):
            found.setdefault(level.sku, []).append(level)
        return [found[sku] for sku in skus]

    return await ctx.loaders.get("stock.levels", load).load(sku)


async def entry_of(ctx: RequestContext, sku: str) -> CatalogEntry | None:
    """The catalog entry of ``sku``, batched like :func:`stock_of`."""

    async def load(skus: list[str]) -> list[CatalogEntry | None]:
        found = {
            e.sku: e
            for e in await ctx.services.store.catalog.get_entries(list(dict.fromkeys(skus)))
        }
        return [found.get(sku) for sku in skus]

    return await ctx.loaders.get("catalog.entries", load).load(sku)


def check_skus(skus: Sequence[str]) -> list[str]:
    if len(skus) > MAX_SKUS:
        raise BadUserInput(
            f"at most {MAX_SKUS} SKUs per call", extensions={"argument": "skus", "max": MAX_SKUS}
        )
    return list(dict.fromkeys(skus))


def place(
    levels: Iterable[StockLevel],
    locations: Mapping[str, LocationRecord],
    *,
    near: Point | None = None,
    radius_km: float | None = None,
    pickup_only: bool = False,
    location_ids: Sequence[str] | None = None,
) -> list[PlacedLevel]:
    """The levels that pass the filters. With ``near``: only at active locations with
    coordinates (within ``radius_km``), nearest first; with ``pickup_only``: only at
    locations that offer pickup; else in (sku, location) order. A level at a location the
    directory does not know passes only when no location filter is asked for."""
    wanted = set(location_ids) if location_ids is not None else None
    placed: list[PlacedLevel] = []
    for level in levels:
        if wanted is not None and level.location_id not in wanted:
            continue
        record = locations.get(level.location_id)
        if record is None:
            if near is None and not pickup_only:
                placed.append(PlacedLevel(level))
            continue
        if pickup_only and not (record.pickup_enabled and record.active):
            continue
        distance = None
        if near is not None:
            if not record.active or record.latitude is None or record.longitude is None:
                continue
            distance = haversine_km(near, Point(record.latitude, record.longitude))
            if radius_km is not None and distance > radius_km:
                continue
        placed.append(PlacedLevel(level, record, distance))
    if near is not None:
        placed.sort(key=lambda p: (p.distance_km, p.level.location_id, p.level.sku))
    else:
        placed.sort(key=lambda p: (p.level.sku, p.level.location_id))
    return placed


def total_available(levels: Iterable[StockLevel]) -> int:
    """Units available across locations; a location that oversold (negative) counts 0."""
    return sum(max(0, level.quantities.get("available", 0)) for level in levels)


def encode_cursor(sku: str) -> str:
    return base64.urlsafe_b64encode(f"sku:{sku}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("malformed cursor", extensions={"argument": "after"}) from exc
    if not raw.startswith("sku:"):
        raise BadUserInput("malformed cursor", extensions={"argument": "after"})
    return raw[len("sku:") :]


def check_variants_first(first: int) -> int:
    if not 1 <= first <= MAX_VARIANTS:
        raise BadUserInput(
            f"`first` must be between 1 and {MAX_VARIANTS}",
            extensions={"argument": "first", "max": MAX_VARIANTS},
        )
    return first
