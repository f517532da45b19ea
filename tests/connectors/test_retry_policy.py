"""The pure parts of the retry policy (``connectors/retry.py``): ``Retry-After`` parsing and
jittered backoff."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, backoff_delay, parse_retry_after

NOW = datetime(2026, 10, 21, 7, 27, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 10.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # already past
        (None, None),
        ("", None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    for retry, ceiling in enumerate([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]):
        assert backoff_delay(retry, base=0.2, cap=5.0, rand=lambda: 0.0) == 0.0
        top = backoff_delay(retry, base=0.2, cap=5.0, rand=lambda: 0.999999)
        assert top == pytest.approx(ceiling, rel=1e-5)
        assert top < ceiling
    draws = [backoff_delay(3, base=0.2, cap=5.0) for _ in range(500)]
    assert all(0.0 <= d < 1.6 for d in draws)
    assert len(set(draws)) > 400  # actually jittered


def test_retry_after_is_a_floor_with_jitter_above_and_a_cap() -> None:
    assert backoff_delay(0, base=0.2, cap=5.0, retry_after=1.0, rand=lambda: 0.0) == 1.0
    assert backoff_delay(0, base=0.2, cap=5.0, retry_after=1.0, rand=lambda: 0.5) == 1.1
    capped = backoff_delay(0, base=0.2, cap=5.0, retry_after=600, retry_after_max=30.0)
    assert 30.0 <= capped < 30.2


def test_policy_constants() -> None:
    assert "POST" not in IDEMPOTENT_METHODS
    assert {"GET", "PUT", "DELETE"} <= IDEMPOTENT_METHODS
    assert 500 not in RETRY_STATUSES
    assert {429, 502, 503, 504} == RETRY_STATUSES
