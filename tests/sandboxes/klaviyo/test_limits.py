"""The Klaviyo sandbox's fixed windows, on an injected clock (no waiting), and its own limit
table: copied from ``x-klaviyo-ratelimit`` in the spec, for every operation it serves."""

from __future__ import annotations

import pytest
from aiohttp import web

from connectors.klaviyo.ratelimit import RATE_LIMITS as CLIENT_LIMITS
from sandboxes.klaviyo import create_sandbox
from sandboxes.klaviyo.limits import DEFAULT_LIMIT, RATE_LIMITS, FixedWindows, RateLimit
from tests.connectors.conftest import FakeClock
from tests.connectors.klaviyo.contract import SKIP_REASON, Contract, specs_available
from tests.connectors.klaviyo.world import klaviyo_world


def served_operations(app: web.Application) -> set[str]:
    """The names of the sandbox's API routes (the spec's ``operationId``s)."""
    return {
        route.name
        for route in app.router.routes()
        if route.name
        and route.resource is not None
        and route.resource.canonical.startswith("/api/")
    }


def test_rate_limit_parses_the_spec_notation() -> None:
    assert RateLimit.parse({"burst": "75/s", "steady": "750/m"}) == RateLimit(75, 750)
    with pytest.raises(ValueError, match="/s"):
        RateLimit.parse({"burst": "75/m", "steady": "750/m"})
    with pytest.raises(ValueError, match="/m"):
        RateLimit.parse({"burst": "75/s", "steady": "many/m"})


@pytest.mark.skipif(not specs_available(), reason=SKIP_REASON)
def test_the_sandbox_limit_table_is_x_klaviyo_ratelimit_from_the_spec() -> None:
    spec = Contract().rate_limits
    assert {operation: RateLimit.parse(spec[operation]) for operation in RATE_LIMITS} == RATE_LIMITS


def test_the_client_and_the_sandbox_agree_because_both_match_the_spec() -> None:
    """Each side's table is checked against the spec on its own (the client's in
    ``tests/connectors/klaviyo/test_ratelimit.py``); here, every operation the client paces
    is one the sandbox limits, with the same windows."""
    for operation, limit in CLIENT_LIMITS.items():
        assert operation in RATE_LIMITS, operation
        assert (RATE_LIMITS[operation].burst, RATE_LIMITS[operation].steady) == (
            limit.burst,
            limit.steady,
        ), operation


def test_every_operation_the_sandbox_serves_has_its_own_limit() -> None:
    app = create_sandbox(klaviyo_world(), api_key="pk_x")
    served = served_operations(app)
    assert served == set(RATE_LIMITS)
    assert {"get_profiles", "get_profile", "get_events"} <= served


def test_operations_outside_the_table_get_the_default_limit() -> None:
    windows = FixedWindows()
    assert windows.limit("get_profiles") == RateLimit(75, 750)
    assert windows.limit("get_lists") == DEFAULT_LIMIT


def test_fixed_windows_throttle_past_the_burst_with_retry_after_to_the_window_end() -> None:
    clock = FakeClock(1000.25)
    windows = FixedWindows({"get_profiles": RateLimit(75, 750)}, clock=clock)
    admitted = [windows.admit("get_profiles") for _ in range(80)]
    assert admitted[:75] == [None] * 75
    assert admitted[75:] == [1] * 5
    assert windows.throttled == {"get_profiles": 5}
    clock.advance(0.75)  # the next second starts: a fresh burst window
    assert windows.admit("get_profiles") is None


def test_fixed_windows_enforce_the_steady_minute() -> None:
    clock = FakeClock(60_000.0)
    windows = FixedWindows({"get_profiles": RateLimit(75, 750)}, clock=clock)
    for _ in range(10):
        for _ in range(75):
            assert windows.admit("get_profiles") is None
        clock.advance(1.0)
    # 750 in the first ten seconds of the minute: 50 seconds until the minute ends.
    assert windows.admit("get_profiles") == 50
