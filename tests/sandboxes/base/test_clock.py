"""The sandboxes' one clock: wall-clock time, never before the dataset, strictly increasing
across every sandbox that shares it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandboxes.base.clock import MILLISECOND, SECOND, SandboxClock

FLOOR = datetime(2026, 11, 1, tzinfo=UTC)


class Wall:
    """A wall clock a test sets."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_stamps_are_wall_clock_time_at_the_resolution_asked() -> None:
    wall = Wall(datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC))
    clock = SandboxClock(FLOOR, wall=wall)
    assert clock.now(SECOND) == datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
    wall.at += timedelta(seconds=1)
    assert clock.now(MILLISECOND) == datetime(2026, 12, 1, 9, 30, 16, 123000, tzinfo=UTC)
    wall.at += timedelta(seconds=1)
    assert clock.now() == wall.at


def test_never_before_the_dataset() -> None:
    clock = SandboxClock(FLOOR, wall=Wall(FLOOR - timedelta(days=30)))
    first = clock.now(SECOND)
    assert first == FLOOR + SECOND
    assert clock.now(SECOND) == first + SECOND


def test_strictly_increasing_across_the_sandboxes_sharing_it() -> None:
    wall = Wall(datetime(2026, 12, 1, 9, 30, 15, 500000, tzinfo=UTC))
    clock = SandboxClock(FLOOR, wall=wall)
    # Shopify (seconds), then Square (milliseconds), then Shopify again, all in one instant.
    shopify = clock.now(SECOND)
    square = clock.now(MILLISECOND)
    shopify_again = clock.now(SECOND)
    klaviyo = clock.now()
    assert shopify < square < shopify_again < klaviyo
    assert shopify_again == shopify + SECOND
    assert clock.last == klaviyo
