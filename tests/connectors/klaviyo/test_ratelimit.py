"""Client pacing, on injected clocks (no waiting). The sandbox's fixed windows, with a table
of their own, are tested in ``tests/sandboxes/klaviyo/test_limits.py``."""

from __future__ import annotations

import asyncio
import math

import pytest

from connectors.klaviyo.ratelimit import RATE_LIMITS, Pacers, RateLimit, Window, WindowPacer
from tests.connectors.conftest import FakeClock
from tests.connectors.klaviyo.contract import SKIP_REASON, Contract, specs_available


def test_rate_limit_parses_the_spec_notation() -> None:
    assert RateLimit.parse({"burst": "75/s", "steady": "750/m"}) == RateLimit(75, 750)
    with pytest.raises(ValueError, match="per"):
        RateLimit.parse({"burst": "75/m", "steady": "750/m"})


@pytest.mark.skipif(not specs_available(), reason=SKIP_REASON)
def test_limit_table_matches_x_klaviyo_ratelimit_in_the_spec() -> None:
    spec = Contract().rate_limits
    for operation, limit in RATE_LIMITS.items():
        assert RateLimit.parse(spec[operation]) == limit, operation


async def test_pacer_admits_a_burst_then_makes_the_next_call_wait_a_window() -> None:
    clock = FakeClock(0.0)
    pacer = WindowPacer((Window(3, 1.0),), margin=0.0, clock=clock)
    for _ in range(3):
        await pacer.acquire()
        await pacer.release()
    assert pacer._delay(clock()) == pytest.approx(1.0)
    clock.advance(0.5)
    assert pacer._delay(clock()) == pytest.approx(0.5)
    clock.advance(0.5)
    assert pacer._delay(clock()) == 0


async def test_in_flight_calls_count_until_a_window_after_they_complete() -> None:
    clock = FakeClock(0.0)
    pacer = WindowPacer((Window(2, 1.0),), margin=0.0, clock=clock)
    await pacer.acquire()
    await pacer.acquire()
    # Both still in flight: no amount of time frees a slot, only a completion does.
    assert math.isinf(pacer._delay(clock()))
    waiter = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0)  # one loop turn: the waiter checks, finds no slot, blocks
    assert not waiter.done()
    clock.advance(5.0)
    await pacer.release()  # answered at t=5: it still counts until t=6
    assert pacer._delay(clock()) == pytest.approx(1.0)
    assert not waiter.done()
    clock.advance(1.0)
    await pacer.release()  # t=6: the first has left the window, this one is in it
    await asyncio.wait_for(waiter, timeout=1)
    assert pacer.delayed == 1
    assert pacer.in_flight == 1
    await pacer.release()


async def test_steady_window_limits_over_a_minute_even_when_bursts_are_free() -> None:
    clock = FakeClock(0.0)
    pacer = WindowPacer(RateLimit(burst=5, steady=8).windows, margin=0.0, clock=clock)
    for _second in range(4):
        for _ in range(2):
            assert pacer._delay(clock()) == 0
            await pacer.acquire()
            await pacer.release()
        clock.advance(1.0)
    # 8 calls answered between t=0 and t=3: the steady window is full until t=60.
    assert pacer._delay(clock()) == pytest.approx(60.0 - 4.0)


def test_pacers_are_per_operation_and_use_the_table() -> None:
    pacers = Pacers()
    profiles = pacers.for_operation("get_profiles")
    assert profiles is pacers.for_operation("get_profiles")
    assert profiles.windows == (Window(75, 1.0), Window(750, 60.0))
    assert pacers.for_operation("get_metrics").windows[0] == Window(10, 1.0)
