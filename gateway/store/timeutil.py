"""The one datetime shape both stores hand back.

BSON keeps datetimes as UTC milliseconds, so MongoDB silently drops microseconds and any
timezone. The memory store applies the same normalisation on the way in, so a value read back
from either backend compares equal to what the other would return, and code developed against
the demo does not break on ``==`` comparisons in production.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_utc(value: datetime) -> datetime:
    """Aware UTC, truncated to milliseconds; naive values are taken to be UTC already
    (which is also how PyMongo encodes them)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)


def utc_now() -> datetime:
    return to_utc(datetime.now(UTC))
