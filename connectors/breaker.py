"""Circuit breaker, one per connector.

When a vendor is down, every request that needs it would otherwise wait for a timeout and
retries, tying up the gateway and hammering the vendor as it tries to recover. After
``failure_threshold`` consecutive unhealthy outcomes the circuit opens and calls fail at once;
after ``reset_timeout`` one trial call is let through to probe whether the vendor is back.

Only outcomes that say "the upstream is unhealthy" (connect errors, timeouts, 5xx) are
failures. A 4xx or a rate limit means the vendor is up and answering, so those never open the
circuit; the HTTP client reports them as successes or as neutral outcomes.

The clock is injectable so tests can move time instead of sleeping.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure breaker with a single half-open trial.

    Results that arrive while the circuit is open come from calls admitted before it opened;
    they are ignored, so a straggler can neither keep the circuit open longer nor close it.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_timeout < 0:
            raise ValueError("reset_timeout must not be negative")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> CircuitState:
        """The current state; an open circuit becomes half-open once the reset timeout passes."""
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self.reset_timeout
        ):
            self._state = CircuitState.HALF_OPEN
            self._trial_in_flight = False
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures counted while closed."""
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open state this admits exactly one trial;
        the caller must then report its outcome (or :meth:`release` it)."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN or self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def record_success(self) -> None:
        """The upstream answered sanely: reset the failure count, close a half-open circuit."""
        state = self.state
        if state is CircuitState.OPEN:
            return
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._trial_in_flight = False

    def record_failure(self) -> None:
        """The upstream looked unhealthy: count it, and open the circuit at the threshold or
        when the half-open trial fails."""
        state = self.state
        if state is CircuitState.OPEN:
            return
        if state is CircuitState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._open()

    def release(self) -> None:
        """The call ended without saying anything about health (rate limited, cancelled,
        unusable body): free the half-open trial slot so another call can probe."""
        if self._state is CircuitState.HALF_OPEN:
            self._trial_in_flight = False

    def _open(self) -> None:
        self._state = CircuitState.OPEN
        self._opened_at = self._clock()
        self._failures = 0
        self._trial_in_flight = False
