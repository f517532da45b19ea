"""Circuit breaker state machine, driven by a fake clock instead of sleeps."""

from __future__ import annotations

import pytest

from connectors.breaker import CircuitBreaker, CircuitState
from tests.connectors.conftest import FakeClock


def _open(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.failure_threshold):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is CircuitState.OPEN


def test_defaults_match_the_design() -> None:
    breaker = CircuitBreaker()
    assert (breaker.failure_threshold, breaker.reset_timeout) == (5, 30.0)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.state == "closed"


def test_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(3, 30.0, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # an answer in between resets the streak
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.failures == 2
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()


def test_half_open_after_reset_timeout_admits_one_trial_and_success_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(2, 30.0, clock=clock)
    _open(breaker)
    clock.advance(29.99)
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()
    clock.advance(0.01)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # only one trial at a time
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_failed_trial_reopens_for_a_full_reset_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    _open(breaker)
    clock.advance(10)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.advance(9.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN


def test_release_frees_the_trial_slot_without_deciding() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock=clock)
    _open(breaker)
    clock.advance(5)
    assert breaker.allow()
    breaker.release()  # e.g. the trial was rate limited or cancelled
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()


def test_results_of_stragglers_are_ignored_while_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(2, 30.0, clock=clock)
    _open(breaker)
    breaker.record_success()
    assert breaker.state is CircuitState.OPEN
    clock.advance(20)
    breaker.record_failure()  # does not push the reopening further out
    clock.advance(10)
    assert breaker.state is CircuitState.HALF_OPEN


@pytest.mark.parametrize(("threshold", "reset"), [(0, 1.0), (1, -1.0)])
def test_rejects_nonsense_settings(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        CircuitBreaker(threshold, reset)
