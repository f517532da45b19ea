"""Real-time behaviour under Klaviyo's real rate limits (this file waits on purpose: the bar
is about what happens over seconds of wall-clock time)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from connectors.metrics import RequestCounter
from sandboxes.demo.world import DemoWorld
from tests.connectors.conftest import FakeClock
from tests.connectors.klaviyo.conftest import API_KEY, MakeConnector, MakeSandbox, Sandbox


async def test_200_concurrent_profile_reads_at_the_real_limits_never_see_a_429(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    """GET /api/profiles allows 75/s and 750/min. 200 concurrent reads must all succeed
    without Klaviyo ever answering 429: the client queues them into the windows."""
    assert sandbox.state.limits.limit("get_profiles").burst == 75
    counter = RequestCounter()
    connector = await make_connector(sandbox, counter=counter)
    emails = [p.email or "" for p in world.klaviyo_profiles]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(connector.profiles(emails=[emails[i % len(emails)]]) for i in range(200))
    )
    elapsed = time.perf_counter() - started
    assert all(len(found) == 1 for found in results)
    assert counter.outcomes("klaviyo", "get_profiles") == {"200": 200}
    assert sandbox.state.limits.throttled == {}
    # 200 calls at 75 per second cannot finish in under two windows; they were paced.
    assert elapsed >= 2.0
    assert connector.client.pacers.delayed("get_profiles") >= 125
    print(f"200 concurrent reads: {elapsed:.2f}s, 0 x 429, {counter.count('klaviyo')} calls")


async def test_the_sandbox_really_throttles_an_unpaced_client(make_sandbox: MakeSandbox) -> None:
    """Control for the test above: without client pacing the same burst gets 429s, with
    Retry-After and Klaviyo's error document."""
    clock = FakeClock(5000.0)  # frozen inside one second: every request falls in one window
    sandbox = await make_sandbox(clock=clock)
    headers = {
        "Authorization": f"Klaviyo-API-Key {API_KEY}",
        "revision": "2026-07-15",
        "Accept": "application/vnd.api+json",
    }
    async with aiohttp.ClientSession(headers=headers) as session:

        async def read() -> tuple[int, str | None, Any]:
            async with session.get(f"{sandbox.url}/api/profiles?page[size]=1") as response:
                return (
                    response.status,
                    response.headers.get("Retry-After"),
                    await response.json(content_type=None),
                )

        answers = await asyncio.gather(*(read() for _ in range(80)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * 75 + [429] * 5
    throttled = [(after, body) for status, after, body in answers if status == 429]
    for retry_after, body in throttled:
        assert retry_after == "1"
        (error,) = body["errors"]
        assert error["code"] == "throttled"
        assert error["status"] == 429
    assert sandbox.state.limits.throttled == {"get_profiles": 5}
