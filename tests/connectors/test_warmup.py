"""The start-up warm-up shared by connectors: runs once, never fails start-up or close."""

from __future__ import annotations

import asyncio
import logging

import pytest

from connectors.warmup import Warmup


async def test_runs_once_and_can_be_awaited() -> None:
    runs = 0
    release = asyncio.Event()

    async def fill() -> None:
        nonlocal runs
        runs += 1
        await release.wait()

    warmup = Warmup("cache", fill)
    warmup.start()
    warmup.start()
    await asyncio.sleep(0)
    assert warmup.running
    waiter = asyncio.create_task(warmup.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    release.set()
    await waiter
    assert not warmup.running
    warmup.start()
    await asyncio.sleep(0)
    assert runs == 1


async def test_a_failing_fill_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def fill() -> None:
        raise RuntimeError("upstream down")

    warmup = Warmup("cache", fill)
    with caplog.at_level(logging.WARNING, logger="omnigate.connectors"):
        warmup.start()
        await warmup.wait()
    assert "cache: warm-up failed" in caplog.text
    await warmup.stop()


async def test_stop_cancels_a_running_fill() -> None:
    cancelled = asyncio.Event()

    async def fill() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    warmup = Warmup("cache", fill)
    warmup.start()
    await asyncio.sleep(0)
    await warmup.stop()
    assert cancelled.is_set()
    assert not warmup.running
