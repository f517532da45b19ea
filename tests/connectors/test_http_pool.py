"""Waiting for the local connection pool is not a vendor failure: a burst larger than the pool
queues for connections (within its deadline), succeeds, and leaves the circuit closed; a vendor
that really fails (5xx, refused connections, its own timeouts) still opens it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from connectors import deadline
from connectors.errors import UpstreamTimeout, UpstreamUnavailable
from sandboxes.base.faults import Fault, FaultMode
from sandboxes.base.server import run_app
from tests.connectors.conftest import MakeClient, Upstream


@dataclass
class Gate:
    """A vendor endpoint that records how many requests it serves at once. Each answer takes
    ``latency`` seconds, or waits for ``release`` when ``hold`` is set."""

    latency: float = 0.05
    hold: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    peak: int = 0
    served: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.arrived.set()
        try:
            if self.hold:
                await self.release.wait()
            else:
                await asyncio.sleep(self.latency)  # the vendor's own latency
        finally:
            self.in_flight -= 1
        self.served += 1
        return web.json_response({"ok": True})


@pytest.fixture
async def gate() -> AsyncIterator[tuple[Gate, str]]:
    state = Gate()
    app = web.Application()
    app.router.add_get("/slow", state.handle)
    async with run_app(app) as url:
        yield state, url


async def test_a_burst_larger_than_the_pool_queues_and_succeeds_with_the_circuit_closed(
    gate: tuple[Gate, str], make_client: MakeClient
) -> None:
    """20 calls, 2 connections, 50 ms an answer: the last call waits ~0.45 s for a connection,
    more than the connect timeout (0.1 s) and the attempt timeout (0.3 s). Neither may count
    the wait."""
    state, url = gate
    client = await make_client(
        base_url=url,
        max_connections=2,
        connect_timeout=0.1,
        total_timeout=0.3,
        breaker_failures=2,
        max_retries=0,
    )
    results = await asyncio.gather(
        *(client.request("GET", "/slow", operation="slow") for _ in range(20))
    )
    assert [r.status for r in results] == [200] * 20
    assert state.peak == 2  # the pool held the burst back: it really queued
    assert state.served == 20
    assert client.counter.outcomes("tiny", "slow") == {"200": 20}
    assert client.circuit_state() == "closed"
    assert client.breaker.failures == 0


async def test_the_wait_for_a_connection_ends_at_the_deadline_without_a_failure(
    gate: tuple[Gate, str], make_client: MakeClient
) -> None:
    state, url = gate
    state.hold = True
    client = await make_client(base_url=url, max_connections=1, breaker_failures=1)
    holder = asyncio.create_task(client.request("GET", "/slow", operation="slow"))
    await state.arrived.wait()  # the only connection is taken

    with deadline.within(0.2), pytest.raises(UpstreamTimeout) as waited:
        await client.request("GET", "/slow", operation="slow")
    assert "waiting for a free connection" in str(waited.value)
    assert waited.value.code == "UPSTREAM_TIMEOUT"
    assert client.counter.count("tiny", "slow") == 0  # nothing was sent (the holder is out)
    assert client.circuit_state() == "closed"
    assert client.breaker.failures == 0

    state.release.set()
    assert (await holder).status == 200
    assert state.served == 1


async def test_a_vendor_answering_5xx_still_opens_the_circuit_through_a_small_pool(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_503))
    client = await make_client(max_connections=2, breaker_failures=3, max_retries=0)
    results = await asyncio.gather(
        *(client.request("GET", "/items", operation="list_items") for _ in range(10)),
        return_exceptions=True,
    )
    assert all(isinstance(r, UpstreamUnavailable) for r in results)
    assert client.circuit_state() == "open"
    # Three failures open it; a call already on the other connection may still land.
    sent = client.counter.count("tiny", "list_items")
    assert 3 <= sent <= 4
    assert client.counter.rejected("tiny", "list_items") == 10 - sent


async def test_a_vendor_that_times_out_still_opens_the_circuit(
    upstream: Upstream, make_client: MakeClient
) -> None:
    """The second call waits for the first's connection and then runs its own full timeout:
    both are the vendor's timeouts, not the pool's."""
    upstream.faults.add(Fault("items", FaultMode.HANG))
    client = await make_client(
        max_connections=1, total_timeout=0.2, breaker_failures=2, max_retries=0
    )
    results = await asyncio.gather(
        *(client.request("GET", "/items", operation="list_items") for _ in range(2)),
        return_exceptions=True,
    )
    assert all(isinstance(r, UpstreamUnavailable) for r in results)
    assert client.counter.outcomes("tiny", "list_items") == {"timeout": 2}
    assert client.circuit_state() == "open"


async def test_a_vendor_refusing_connections_still_opens_the_circuit(
    make_client: MakeClient,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await make_client(
        base_url=f"http://127.0.0.1:{port}", max_connections=1, breaker_failures=2, max_retries=0
    )
    results = await asyncio.gather(
        *(client.request("GET", "/items", operation="list_items") for _ in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(r, UpstreamUnavailable) for r in results)
    assert client.counter.outcomes("tiny", "list_items") == {"connection_error": 2}
    assert client.circuit_state() == "open"
