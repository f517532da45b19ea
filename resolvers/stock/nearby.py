"""Which locations are near a point: great-circle distance, radius and pickup filters.

A shopper's "near me" is a point on a sphere, not on a map: the haversine formula gives the
great-circle distance on a sphere of the Earth's mean radius (IUGG, 6,371.0088 km), within
0.5% of the ellipsoidal distance everywhere, which is plenty for ordering stores. Locations
are few (tens, a few hundred for a large chain) and cached by
:class:`resolvers.locations.LocationDirectory`, so filtering them in memory per request is
cheaper than any index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.records import LocationRecord
from resolvers.errors import BadUserInput

#: Mean Earth radius (IUGG), in kilometres.
EARTH_RADIUS_KM = 6371.0088
#: Most locations one ``locations`` call returns.
MAX_LOCATIONS = 100


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class Nearby:
    """A location and, when the question named a point, how far it is from it."""

    location: LocationRecord
    distance_km: float | None = None


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points, in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlng = math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def check_point(point: Point, argument: str = "near") -> Point:
    if not (math.isfinite(point.lat) and -90.0 <= point.lat <= 90.0):
        raise BadUserInput(
            "latitude must be between -90 and 90", extensions={"argument": f"{argument}.lat"}
        )
    if not (math.isfinite(point.lng) and -180.0 <= point.lng <= 180.0):
        raise BadUserInput(
            "longitude must be between -180 and 180", extensions={"argument": f"{argument}.lng"}
        )
    return point


def check_radius(radius_km: float | None, near: Point | None) -> float | None:
    if radius_km is None:
        return None
    if not (math.isfinite(radius_km) and radius_km > 0):
        raise BadUserInput("`radiusKm` must be greater than 0", extensions={"argument": "radiusKm"})
    if near is None:
        raise BadUserInput("`radiusKm` needs `near`", extensions={"argument": "radiusKm"})
    return radius_km


def check_first(first: int, maximum: int = MAX_LOCATIONS) -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(
            f"`first` must be between 1 and {maximum}",
            extensions={"argument": "first", "max": maximum},
        )
    return first


def nearby(
    locations: Iterable[LocationRecord],
    *,
    near: Point | None = None,
    radius_km: float | None = None,
    pickup_only: bool = False,
    include_inactive: bool = False,
) -> list[Nearby]:
    """The locations that pass the filters: nearest first when ``near`` is given (those
    without coordinates are then left out, as their distance is unknown), else by name then
    id. Arguments are checked by the caller (:func:`check_point`, :func:`check_radius`)."""
    found: list[Nearby] = []
    for location in locations:
        if not include_inactive and not location.active:
            continue
        if pickup_only and not location.pickup_enabled:
            continue
        if near is None:
            found.append(Nearby(location))
            continue
        if location.latitude is None or location.longitude is None:
            continue
        distance = haversine_km(near, Point(location.latitude, location.longitude))
        if radius_km is not None and distance > radius_km:
            continue
        found.append(Nearby(location, distance))
    if near is None:
        found.sort(key=lambda n: (n.location.name, n.location.id))
    else:
        found.sort(key=lambda n: (n.distance_km, n.location.id))
    return found
