"""The deadline of the work in progress, and how the HTTP client keeps to it: each attempt gets
at most what is left, no backoff or ``Retry-After`` wait passes it, nothing starts after it.
Timing decisions are read from a recording ``sleep`` and the request counters, not a clock.
Waits and starts are decided in-process (the tiny vendor behind a mock transport); attempts
the deadline cuts short hang on the real wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from connectors import deadline
from connectors.errors import UpstreamTimeout, UpstreamUnavailable
from sandboxes.base.faults import Fault, FaultMode
from tests.connectors.conftest import FakeClock, MakeClient, RecordingSleep, Upstream
from tests.connectors.tiny import MakeClient as MakeTinyClient
from tests.connectors.tiny import TinyVendor, tiny_clients


@pytest.fixture
def vendor() -> TinyVendor:
    return TinyVendor()


@pytest.fixture
async def make_tiny(vendor: TinyVendor) -> AsyncIterator[MakeTinyClient]:
    async with tiny_clients(vendor) as make:
        yield make


# --- the primitive ------------------------------------------------------------------------


async def test_a_nested_deadline_can_shorten_the_work_never_extend_it() -> None:
    assert deadline.current() is None
    with deadline.within(10.0) as outer:
        assert outer is not None
        with deadline.within(60.0) as inner:
            assert inner == outer
        with deadline.within(1.0) as inner:
            assert inner is not None
            assert inner.at < outer.at
        with deadline.within(None) as inner:
            assert inner == outer
        assert deadline.current() == outer
        assert deadline.bound(20.0) <= 10.0
        assert deadline.bound(0.5) == 0.5
    assert deadline.current() is None
    assert deadline.remaining() is None
    assert deadline.bound(20.0) == 20.0


async def test_a_task_inherits_the_deadline_unless_detached() -> None:
    async def seen() -> deadline.Deadline | None:
        return deadline.current()

    with deadline.within(1.0) as request:
        inherited = await asyncio.create_task(seen())
        own = await asyncio.create_task(seen(), context=deadline.detached(30.0))
        none = await asyncio.create_task(seen(), context=deadline.detached(None))
    assert inherited == request
    assert request is not None
    assert own is not None
    assert own.at > request.at + 20
    assert none is None


async def test_waiting_on_shared_work_stops_at_the_deadline_and_the_work_goes_on() -> None:
    release = asyncio.Event()

    async def shared() -> str:
        await release.wait()
        return "built"

    task = asyncio.create_task(shared())
    with deadline.within(0.05), pytest.raises(deadline.DeadlinePassed):
        await deadline.wait_shared(task)
    assert not task.done()
    release.set()
    assert await deadline.wait_shared(task) == "built"  # no deadline now: waits as long as needed


async def test_a_cancelled_waiter_leaves_the_shared_work_running() -> None:
    release = asyncio.Event()
    task = asyncio.create_task(release.wait())
    waiter = asyncio.create_task(deadline.wait_shared(task))
    await asyncio.sleep(0)  # let the waiter start waiting
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not task.done()
    release.set()
    assert await task is True


# --- the HTTP client ------------------------------------------------------------------------


async def test_an_attempt_gets_what_is_left_of_the_deadline_not_its_own_timeout(
    upstream: Upstream, make_client: MakeClient
) -> None:
    """A hang with a 10 s attempt timeout and 3 retries would take 40 s; under a 0.3 s
    deadline the one attempt is cut at the deadline and nothing is retried."""
    upstream.faults.add(Fault("items", FaultMode.HANG))
    sleep = RecordingSleep()
    client = await make_client(total_timeout=10.0, max_retries=3, sleep=sleep)
    with deadline.within(0.3), pytest.raises(UpstreamTimeout) as raised:
        await client.request("GET", "/items", operation="list_items")
    assert raised.value.code == "UPSTREAM_TIMEOUT"
    assert "before the deadline" in str(raised.value)
    assert client.counter.outcomes("tiny", "list_items") == {"deadline": 1}
    assert client.counter.retries("tiny", "list_items") == 0
    assert sleep.delays == []
    # Cut after 0.3 s, well under ``slow_answer``: the deadline's doing, not the vendor's.
    assert client.breaker.failures == 0


async def test_a_vendor_silent_past_slow_answer_counts_when_the_deadline_cuts_it(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.HANG))
    client = await make_client(total_timeout=10.0, slow_answer=0.1, breaker_failures=1)
    with deadline.within(0.3), pytest.raises(UpstreamTimeout):
        await client.request("GET", "/items", operation="list_items")
    assert client.circuit_state() == "open"


async def test_a_retry_after_that_would_pass_the_deadline_is_not_waited_for(
    vendor: TinyVendor, make_tiny: MakeTinyClient
) -> None:
    vendor.fail("items", 429, retry_after=60, count=1)
    sleep = RecordingSleep()
    client = await make_tiny(sleep=sleep)
    with deadline.within(5.0), pytest.raises(UpstreamTimeout) as raised:
        await client.request("GET", "/items", operation="list_items")
    assert sleep.delays == []  # no retry was scheduled past the deadline
    assert client.counter.count("tiny", "list_items") == 1
    assert client.counter.retries("tiny", "list_items") == 0
    assert raised.value.status == 429
    assert "UPSTREAM_RATE_LIMITED" in str(raised.value)


async def test_a_retry_after_that_fits_is_waited_for(
    vendor: TinyVendor, make_tiny: MakeTinyClient
) -> None:
    vendor.fail("items", 429, retry_after=1, count=1)
    sleep = RecordingSleep()
    client = await make_tiny(sleep=sleep, rand=lambda: 0.0)
    with deadline.within(5.0):
        response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert sleep.delays == [1.0]


async def test_a_backoff_that_would_pass_the_deadline_is_not_taken(
    vendor: TinyVendor, make_tiny: MakeTinyClient
) -> None:
    vendor.fail("items", 503)
    sleep = RecordingSleep()
    client = await make_tiny(sleep=sleep, backoff_base=1.0, rand=lambda: 0.9, max_retries=3)
    with deadline.within(0.5), pytest.raises(UpstreamTimeout) as raised:
        await client.request("GET", "/items", operation="list_items")
    assert sleep.delays == []
    assert isinstance(raised.value.__cause__, UpstreamUnavailable)
    assert client.counter.count("tiny", "list_items") == 1


async def test_nothing_starts_after_the_deadline(
    vendor: TinyVendor, make_tiny: MakeTinyClient
) -> None:
    clock = FakeClock()
    client = await make_tiny(breaker_failures=1, breaker_reset=5.0, clock=clock)
    vendor.fail("items", 500, count=1)
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items")
    clock.advance(5)
    assert client.circuit_state() == "half_open"

    with deadline.within(0.0), pytest.raises(UpstreamTimeout, match="before sending"):
        await client.request("GET", "/items", operation="list_items")
    assert vendor.seen("items") == 1  # only the first call reached the vendor
    assert client.counter.count("tiny", "list_items") == 1
    assert client.breaker.allow()  # the half-open trial was not spent on it


async def test_without_a_deadline_the_client_behaves_as_before(
    vendor: TinyVendor, make_tiny: MakeTinyClient
) -> None:
    vendor.fail("items", 503, count=2)
    sleep = RecordingSleep()
    client = await make_tiny(sleep=sleep, max_retries=3)
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert len(sleep.delays) == 2
    assert client.counter.outcomes("tiny", "list_items") == {"503": 2, "200": 1}
