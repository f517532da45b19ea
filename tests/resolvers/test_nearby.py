"""Great-circle distance and the location filters behind ``locations(near:)``."""

from __future__ import annotations

import pytest

from connectors.records import LocationRecord, Source
from resolvers.errors import BadUserInput
from resolvers.stock.nearby import (
    Point,
    check_first,
    check_point,
    check_radius,
    haversine_km,
    nearby,
)

LONDON = Point(51.5074, -0.1278)
PARIS = Point(48.8566, 2.3522)
NEW_YORK = Point(40.7128, -74.0060)
LOS_ANGELES = Point(34.0522, -118.2437)
SYDNEY = Point(-33.8688, 151.2093)
TOKYO = Point(35.6762, 139.6503)


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        # Published geodesic (WGS 84 ellipsoid) distances between the city centres.
        (LONDON, PARIS, 343.9),
        (NEW_YORK, LOS_ANGELES, 3944.0),
        (NEW_YORK, LONDON, 5585.2),
        (SYDNEY, TOKYO, 7792.0),
    ],
)
def test_great_circle_distance_is_within_half_a_percent_of_the_geodesic(
    a: Point, b: Point, km: float
) -> None:
    assert haversine_km(a, b) == pytest.approx(km, rel=0.005)
    assert haversine_km(b, a) == pytest.approx(haversine_km(a, b))


def test_distance_edge_cases() -> None:
    assert haversine_km(PARIS, PARIS) == 0.0
    # Antipodes: half the circumference, no domain error from rounding.
    assert haversine_km(Point(0, 0), Point(0, 180)) == pytest.approx(20015.1, rel=0.001)
    # Across the antimeridian the short way round.
    assert haversine_km(Point(0, 179.5), Point(0, -179.5)) == pytest.approx(111.2, rel=0.01)


def loc(id_: str, lat: float | None, lng: float | None, **kw: object) -> LocationRecord:
    return LocationRecord(
        source=Source("shopify"), id=id_, name=id_, latitude=lat, longitude=lng, **kw
    )  # type: ignore[arg-type]


CITIES = [
    loc("paris", PARIS.lat, PARIS.lng, pickup_enabled=True),
    loc("new-york", NEW_YORK.lat, NEW_YORK.lng, pickup_enabled=True),
    loc("los-angeles", LOS_ANGELES.lat, LOS_ANGELES.lng),
    loc("tokyo", TOKYO.lat, TOKYO.lng, pickup_enabled=True, active=False),
    loc("nowhere", None, None, pickup_enabled=True),
]


def test_nearest_first_with_distances() -> None:
    found = nearby(CITIES, near=LONDON)
    assert [n.location.id for n in found] == ["paris", "new-york", "los-angeles"]
    distances = [n.distance_km for n in found]
    assert distances == sorted(distances)  # type: ignore[type-var]
    assert found[0].distance_km == pytest.approx(343.9, rel=0.005)


def test_radius_and_pickup_filters() -> None:
    assert [n.location.id for n in nearby(CITIES, near=LONDON, radius_km=6000)] == [
        "paris",
        "new-york",
    ]
    assert [n.location.id for n in nearby(CITIES, near=LOS_ANGELES, pickup_only=True)] == [
        "new-york",
        "paris",
    ]
    assert nearby(CITIES, near=LONDON, radius_km=300) == []


def test_without_a_point_every_active_location_by_name() -> None:
    found = nearby(CITIES)
    assert [n.location.id for n in found] == ["los-angeles", "new-york", "nowhere", "paris"]
    assert all(n.distance_km is None for n in found)
    assert [n.location.id for n in nearby(CITIES, pickup_only=True)] == [
        "new-york",
        "nowhere",
        "paris",
    ]


@pytest.mark.parametrize(
    "point",
    [Point(90.5, 0), Point(-91, 0), Point(0, 180.1), Point(0, -181), Point(float("nan"), 0)],
)
def test_points_out_of_range_are_bad_input(point: Point) -> None:
    with pytest.raises(BadUserInput):
        check_point(point)


def test_radius_and_first_are_checked() -> None:
    assert check_radius(None, None) is None
    assert check_radius(5.0, LONDON) == 5.0
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(BadUserInput):
            check_radius(bad, LONDON)
    with pytest.raises(BadUserInput):
        check_radius(5.0, None)
    assert check_first(1) == 1
    assert check_first(100) == 100
    for bad in (0, 101, -1):
        with pytest.raises(BadUserInput):
            check_first(bad)
