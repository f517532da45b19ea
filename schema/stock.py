"""The GraphQL ``StockLevel``: one SKU at one unified location, as the store holds it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from connectors.records import LocationRecord
from resolvers.model import StockLevel as StoredLevel
from schema.locations import Location
from schema.sources import SourceName, source_name


@strawberry.type(
    description="Stock of one SKU at one location. Quantities use Shopify's names; "
    "`sellableForPickup = max(0, available - safetyStock - held)`."
)
class StockLevel:
    sku: str
    location_id: strawberry.ID
    available: int
    on_hand: int | None
    committed: int | None
    reserved: int | None
    incoming: int | None
    safety_stock: int = strawberry.field(
        description="Units this location keeps back from pickup holds (a setting)."
    )
    held: int = strawberry.field(description="Units promised to pickup holds not settled yet.")
    sellable_for_pickup: int
    updated_at: datetime = strawberry.field(
        description="The vendor's time of the level last applied."
    )
    source: SourceName | None
    version: int = strawberry.field(
        description="Grows by one on every change to this level, whatever made it."
    )
    #: The location's record when the caller already has it.
    location_record: strawberry.Private[LocationRecord | None] = None
    #: Great-circle distance from the query's ``near``, when it gave one.
    distance: strawberry.Private[float | None] = None

    @strawberry.field(description="The location this level is at.")
    def location(self) -> Location:
        return Location(id=self.location_id, record=self.location_record)

    @strawberry.field(
        description="Great-circle distance of the location from the query's `near`, in "
        "kilometres; null without `near`."
    )
    def distance_km(self) -> float | None:
        return None if self.distance is None else round(self.distance, 3)


def stock_level_from(
    level: StoredLevel,
    *,
    location: LocationRecord | None = None,
    distance_km: float | None = None,
) -> StockLevel:
    q = level.quantities
    return StockLevel(
        sku=level.sku,
        location_id=strawberry.ID(level.location_id),
        available=q.get("available", 0),
        on_hand=q.get("on_hand"),
        committed=q.get("committed"),
        reserved=q.get("reserved"),
        incoming=q.get("incoming"),
        safety_stock=level.safety_stock,
        held=level.held,
        sellable_for_pickup=level.sellable_for_pickup,
        updated_at=level.updated_at,
        source=source_name(level.source) if level.source else None,
        version=level.version,
        location_record=location,
        distance=distance_km,
    )
