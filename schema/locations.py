"""Locations: the stores and warehouses of every system, as one list, and "near me".

``Location`` is a federation entity keyed by ``id`` (the unified location id, such as
``shopify:123``), so another subgraph can hand one over and have it resolved here. Its fields
read the cached :class:`resolvers.locations.LocationDirectory`, never a vendor per request.
"""

from __future__ import annotations

import enum

import strawberry

from connectors.records import Address as AddressRecord
from connectors.records import LocationRecord
from resolvers.context import RequestContext
from resolvers.errors import Forbidden, Unauthenticated
from resolvers.stock.nearby import (
    Nearby,
    Point,
    check_first,
    check_point,
    check_radius,
    nearby,
)
from resolvers.viewer import Role
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]

#: Who may read stock, variants and locations: anyone with a token but the router.
READERS = (Role.STOREFRONT, Role.STAFF, Role.INTERNAL)


@strawberry.type
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country_code: str | None

    @classmethod
    def of(cls, a: AddressRecord) -> Address:
        return cls(
            line1=a.line1,
            line2=a.line2,
            city=a.city,
            region=a.region,
            postal_code=a.postal_code,
            country_code=a.country_code,
        )


@strawberry.enum
class LocationKind(enum.Enum):
    STORE = "store"
    WAREHOUSE = "warehouse"


@strawberry.input(description="A point on Earth, in decimal degrees (WGS 84).")
class GeoPointInput:
    lat: float = strawberry.field(description="Latitude, -90 to 90.")
    lng: float = strawberry.field(description="Longitude, -180 to 180.")

    def point(self, argument: str = "near") -> Point:
        return check_point(Point(self.lat, self.lng), argument)


def point_of(near: GeoPointInput | None, argument: str = "near") -> Point | None:
    return near.point(argument) if near is not None else None


@strawberry.federation.type(
    keys=["id"],
    description="A store or warehouse, unified across systems: a store that runs Shopify and "
    "Square is one location.",
)
class Location:
    id: strawberry.ID
    #: The directory's record when the caller already has it (``locations``, stock).
    record: strawberry.Private[LocationRecord | None] = None
    #: Great-circle distance from the query's ``near``, when it gave one.
    distance: strawberry.Private[float | None] = None

    @classmethod
    def of(cls, record: LocationRecord, distance: float | None = None) -> Location:
        return cls(id=strawberry.ID(record.id), record=record, distance=distance)

    @classmethod
    def from_nearby(cls, found: Nearby) -> Location:
        return cls.of(found.location, found.distance_km)

    async def _record(self, info: Info) -> LocationRecord | None:
        if self.record is None:
            self.record = await info.context.services.locations.get(str(self.id))
        return self.record

    @strawberry.field
    async def name(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.name if record else None

    @strawberry.field
    async def kind(self, info: Info) -> LocationKind | None:
        record = await self._record(info)
        return LocationKind(record.kind.value) if record else None

    @strawberry.field
    async def address(self, info: Info) -> Address | None:
        record = await self._record(info)
        return Address.of(record.address) if record else None

    @strawberry.field
    async def latitude(self, info: Info) -> float | None:
        record = await self._record(info)
        return record.latitude if record else None

    @strawberry.field
    async def longitude(self, info: Info) -> float | None:
        record = await self._record(info)
        return record.longitude if record else None

    @strawberry.field
    async def pickup_enabled(self, info: Info) -> bool | None:
        record = await self._record(info)
        return record.pickup_enabled if record else None

    @strawberry.field(
        description="How long after an order the store usually has it ready for pickup."
    )
    async def pickup_lead_time_minutes(self, info: Info) -> int | None:
        record = await self._record(info)
        return record.pickup_lead_time_minutes if record and record.pickup_enabled else None

    @strawberry.field(description="The store's own phone number.")
    async def phone(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.phone if record else None

    @strawberry.field(description="IANA time zone, e.g. `America/New_York`.")
    async def timezone(self, info: Info) -> str | None:
        record = await self._record(info)
        return record.timezone if record else None

    @strawberry.field(
        description="Great-circle distance from the query's `near`, in kilometres; null "
        "without `near`."
    )
    def distance_km(self) -> float | None:
        return None if self.distance is None else round(self.distance, 3)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Location | None:
        viewer = info.context.viewer
        if not viewer.authenticated:
            raise Unauthenticated("A bearer token is required.")
        if viewer.role not in READERS:
            raise Forbidden("locations need a storefront, staff or internal token")
        record = await info.context.services.locations.get(str(id))
        return cls.of(record) if record else None


@strawberry.type
class LocationQuery:
    @strawberry.field(
        description="Every active location; with `near`, nearest first, each with its "
        "`distanceKm`, within `radiusKm` if given. `first` is 1 to 100.",
        extensions=guarded(*READERS),
    )
    async def locations(
        self,
        info: Info,
        near: GeoPointInput | None = None,
        radius_km: float | None = None,
        pickup_only: bool = False,
        first: int = 50,
    ) -> list[Location]:
        point = point_of(near)
        radius = check_radius(radius_km, point)
        check_first(first)
        records = (await info.context.services.locations.all()).values()
        found = nearby(records, near=point, radius_km=radius, pickup_only=pickup_only)
        return [Location.from_nearby(n) for n in found[:first]]

    @strawberry.field(description="One location by unified id.", extensions=guarded(*READERS))
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        record = await info.context.services.locations.get(str(id))
        return Location.of(record) if record else None


__all__ = ["READERS", "Address", "GeoPointInput", "Location", "LocationKind", "LocationQuery"]
