"""Request counter: what tests and benchmarks read to prove how many calls went out."""

from __future__ import annotations

import asyncio

from connectors.metrics import DEFAULT_COUNTER, RequestCounter, tally_calls
from connectors.records import Source


def test_counts_filter_by_connector_and_operation() -> None:
    counter = RequestCounter()
    counter.record(Source("shopify"), "customers", "200")
    counter.record("shopify", "customers", "503")
    counter.record("shopify", "orders", "200")
    counter.record("square", "customers", "timeout")
    counter.record_retry("shopify", "customers")
    counter.record_rejected("square", "customers")

    assert counter.count() == 4
    assert counter.count("shopify") == 3
    assert counter.count("shopify", "customers") == 2
    assert counter.count(operation="customers") == 3
    assert counter.retries() == 1
    assert counter.rejected("square") == 1
    assert counter.outcomes("shopify", "customers") == {"200": 1, "503": 1}
    assert counter.outcomes(operation="customers") == {"200": 1, "503": 1, "timeout": 1}


def test_snapshot_is_a_plain_copy_and_reset_empties() -> None:
    counter = RequestCounter()
    counter.record("klaviyo", "profiles", "429")
    counter.record_retry("klaviyo", "profiles")
    counter.record("klaviyo", "profiles", "200")
    snapshot = counter.snapshot()
    assert snapshot == {
        "klaviyo": {
            "profiles": {
                "requests": 2,
                "retries": 1,
                "rejected": 0,
                "outcomes": {"429": 1, "200": 1},
            }
        }
    }
    counter.record("klaviyo", "profiles", "200")
    assert snapshot["klaviyo"]["profiles"]["requests"] == 2
    counter.reset()
    assert counter.count() == 0
    assert counter.snapshot() == {}


def test_there_is_one_process_wide_default() -> None:
    assert isinstance(DEFAULT_COUNTER, RequestCounter)


async def test_a_tally_counts_its_block_and_the_tasks_it_starts_not_others() -> None:
    counter = RequestCounter()
    counter.record("shopify", "customers", "200")  # before any tally
    started, release = asyncio.Event(), asyncio.Event()

    async def batch() -> None:
        counter.record("klaviyo", "profiles", "200")

    async def other_operation() -> int:
        with tally_calls() as tally:
            started.set()
            await release.wait()
            counter.record("square", "orders", "200")
        return tally.requests

    other = asyncio.create_task(other_operation())
    await started.wait()
    with tally_calls() as mine:
        counter.record("shopify", "customers", "200")
        await asyncio.create_task(batch())  # a task this block starts (a DataLoader batch)
        release.set()
        assert await other == 1  # recorded while this block was open, but by the other
    counter.record("shopify", "customers", "200")  # after the block
    assert mine.requests == 2
    assert counter.count() == 5
