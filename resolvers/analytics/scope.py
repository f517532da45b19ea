"""What one ``analytics(from, to, locationIds)`` asks about, checked once for every figure.

Each figure is resolved on its own (a client asking for one figure pays for that one), so
the period and the locations are validated here, when the ``Analytics`` object is made, and
every figure receives the same :class:`AnalyticsScope`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from resolvers.errors import BadUserInput, Forbidden
from resolvers.viewer import Role, Viewer

#: The period when ``from`` is not given: the 30 days before ``to``.
DEFAULT_PERIOD = timedelta(days=30)
#: The longest period one question may cover (each figure scans it).
MAX_PERIOD = timedelta(days=3 * 366)
#: At most this many locations in ``locationIds``.
MAX_LOCATIONS = 100


@dataclass(frozen=True, slots=True)
class AnalyticsScope:
    """A period ``[since, until)`` in UTC and, if given, the only locations to count.

    ``location_ids`` is ``None`` for every location. Figures about stores (in-store orders,
    pickup holds, stock) count only those locations; online orders belong to no store, so
    they are counted whatever the locations."""

    since: datetime
    until: datetime
    location_ids: frozenset[str] | None = None

    def counts_location(self, location_id: str | None) -> bool:
        return self.location_ids is None or (
            location_id is not None and location_id in self.location_ids
        )


def utc(value: datetime) -> datetime:
    """A time without a zone is taken as UTC, as the store does."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def period(
    since: datetime | None, until: datetime | None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[since, until)`` in UTC: ``until`` defaults to now, ``since`` to 30 days before it.
    ``BAD_USER_INPUT`` unless ``since`` is before ``until``."""
    end = utc(until) if until is not None else (now or datetime.now(UTC))
    start = utc(since) if since is not None else end - DEFAULT_PERIOD
    if start >= end:
        raise BadUserInput(
            "`from` must be before `to`.",
            extensions={"from": start.isoformat(), "to": end.isoformat()},
        )
    return start, end


def analytics_scope(
    viewer: Viewer,
    since: datetime | None,
    until: datetime | None,
    location_ids: Sequence[str] | None,
    *,
    now: datetime | None = None,
) -> AnalyticsScope:
    if viewer.role is not Role.INTERNAL:
        raise Forbidden("Analytics are for internal tokens only.")
    start, end = period(since, until, now=now)
    if end - start > MAX_PERIOD:
        raise BadUserInput(
            f"A period may cover at most {MAX_PERIOD.days} days.",
            extensions={"argument": "from", "maxDays": MAX_PERIOD.days},
        )
    ids: frozenset[str] | None = None
    if location_ids is not None:
        if not location_ids:
            raise BadUserInput(
                "`locationIds` may not be empty (leave it out for every location).",
                extensions={"argument": "locationIds"},
            )
        if len(location_ids) > MAX_LOCATIONS:
            raise BadUserInput(
                f"`locationIds` takes at most {MAX_LOCATIONS} locations.",
                extensions={"argument": "locationIds", "max": MAX_LOCATIONS},
            )
        ids = frozenset(str(i) for i in location_ids)
    return AnalyticsScope(since=start, until=end, location_ids=ids)
