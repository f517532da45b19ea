"""The client-side cost bucket, with a fake clock: pacing decisions without real waiting."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from connectors.shopify.throttle import (
    CostBucket,
    CostExceedsBucket,
    ThrottleStatus,
    ThrottleTimeout,
)


@dataclass
class Clock:
    """Time moves only when the bucket sleeps, by exactly what it asked for."""

    now: float = 100.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def status(available: float, maximum: float = 1000, rate: float = 100) -> ThrottleStatus:
    return ThrottleStatus(maximum, available, rate)


async def learned(clock: Clock, available: float = 1000, maximum: float = 1000) -> CostBucket:
    bucket = CostBucket(clock=clock, sleep=clock.sleep)
    probe = await bucket.acquire(1, clock.now + 30)
    bucket.settle(probe, status(available, maximum))
    return bucket


async def test_first_call_probes_alone_until_the_bucket_size_is_known() -> None:
    clock = Clock()
    bucket = CostBucket(clock=clock, sleep=clock.sleep)
    probe = await bucket.acquire(50, clock.now + 30)
    assert probe.probe
    second = asyncio.create_task(bucket.acquire(50, clock.now + 30))
    await asyncio.sleep(0)
    assert not second.done()  # waits for the probe's answer
    bucket.settle(probe, status(900))
    ticket = await second
    assert not ticket.probe
    assert bucket.available() == pytest.approx(850)


async def test_waits_for_refill_instead_of_sending_into_a_throttle() -> None:
    clock = Clock()
    bucket = await learned(clock, available=100)
    await bucket.acquire(100, clock.now + 30)
    await bucket.acquire(250, clock.now + 30)
    assert clock.slept == [pytest.approx(2.5)]


async def test_callers_are_served_first_come_first_served() -> None:
    clock = Clock()
    bucket = await learned(clock, available=0)
    order: list[str] = []

    async def call(name: str, cost: float) -> None:
        await bucket.acquire(cost, clock.now + 60)
        order.append(name)

    await asyncio.gather(call("big", 500), call("small", 10), call("small2", 10))
    assert order == ["big", "small", "small2"]


async def test_answer_lowers_the_estimate_to_what_shopify_reports() -> None:
    clock = Clock()
    bucket = await learned(clock)
    ticket = await bucket.acquire(100, clock.now + 30)
    # another consumer of the same app+shop bucket spent points meanwhile
    bucket.settle(ticket, status(400), actual=100)
    assert bucket.available() == pytest.approx(400)


async def test_refund_of_unused_points_is_credited_but_never_above_shopify() -> None:
    clock = Clock()
    bucket = await learned(clock)
    ticket = await bucket.acquire(300, clock.now + 30)
    bucket.settle(ticket, status(950), actual=50)
    assert bucket.available() == pytest.approx(950)


async def test_in_flight_reservations_are_subtracted_from_shopifys_figure() -> None:
    clock = Clock()
    bucket = await learned(clock)
    first = await bucket.acquire(200, clock.now + 30)
    await bucket.acquire(300, clock.now + 30)  # still in flight when the first answers
    bucket.settle(first, status(800), actual=200)
    assert bucket.available() == pytest.approx(500)


async def test_throttled_answer_resets_to_shopify_and_next_acquire_waits() -> None:
    clock = Clock()
    bucket = await learned(clock)
    ticket = await bucket.acquire(400, clock.now + 30)
    bucket.settle(ticket, status(100), throttled=True)
    await bucket.acquire(400, clock.now + 30)
    assert clock.slept == [pytest.approx(3.0)]


async def test_a_wait_past_the_deadline_fails_at_once() -> None:
    clock = Clock()
    bucket = await learned(clock, available=0)
    with pytest.raises(ThrottleTimeout):
        await bucket.acquire(500, clock.now + 2)
    assert clock.slept == []


async def test_a_cost_larger_than_the_bucket_can_never_be_served() -> None:
    clock = Clock()
    bucket = await learned(clock, maximum=200, available=200)
    with pytest.raises(CostExceedsBucket):
        await bucket.acquire(201, clock.now + 30)


async def test_cancelled_call_releases_the_probe() -> None:
    clock = Clock()
    bucket = CostBucket(clock=clock, sleep=clock.sleep)
    probe = await bucket.acquire(10, clock.now + 30)
    bucket.cancel(probe)
    again = await bucket.acquire(10, clock.now + 30)
    assert again.probe


async def test_an_answer_with_a_refund_wakes_a_waiter_before_its_refill_time() -> None:
    """A waiter must not sleep out a refill the refund of a concurrent call already covers."""
    clock = Clock()
    never = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        await never.wait()

    bucket = CostBucket(clock=clock, sleep=sleep_forever)
    probe = await bucket.acquire(1, clock.now + 30)
    bucket.settle(probe, status(1000))
    first = await bucket.acquire(900, clock.now + 30)
    waiter = asyncio.create_task(bucket.acquire(800, clock.now + 30))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not waiter.done()  # 100 available, needs 800: it sleeps (here: forever)

    bucket.settle(first, status(900), actual=100)  # 800 of the 900 points come back

    ticket = await asyncio.wait_for(waiter, timeout=5)
    assert ticket.cost == 800
