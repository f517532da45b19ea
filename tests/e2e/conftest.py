"""The whole stack on loopback: three vendor sandboxes fed by one demo dataset, the gateway
pointed at them exactly as ``omnigate demo`` does, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from opentelemetry.trace import TracerProvider

from gateway.app import create_app
from gateway.demo import DemoStack, sandboxes
from gateway.settings import TokenGrant
from sandboxes.demo import DemoWorld
from tests.support import gql, listening_socket, make_settings, serve

PEOPLE = 200  # the demo default, so docs/queries examples find their people
#: The demo's Shopify sandbox paces calls like a Standard shop (100 points/s): backfilling
#: 200 people would wait ~7 s of every stack's start for the bucket to refill. The stacks of
#: these tests get a bucket that never runs dry, so they spend their time on what they test;
#: pacing itself is tested in tests/connectors/shopify (a test that wants it asks with
#: ``roomy_bucket=False``).
ROOMY_BUCKET = {"maximumAvailable": 20_000, "currentlyAvailable": 20_000, "restoreRate": 100_000}


@dataclass
class Demo:
    url: str
    app: Any
    stack: DemoStack
    http: aiohttp.ClientSession

    @property
    def world(self) -> DemoWorld:
        return self.stack.world

    async def gql(
        self, query: str, token: str | None = "demo-internal", status: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        got, body = await gql(self.http, self.url, query, token=token, **kwargs)
        assert got == status, body
        return body

    async def control(self, vendor: str, method: str, path: str, **kwargs: Any) -> Any:
        url = self.stack.sandboxes[vendor] + path
        async with self.http.request(method, url, **kwargs) as resp:
            assert resp.status < 400, await resp.text()
            return await resp.json(content_type=None)

    def calls(self, connector: str | None = None) -> int:
        return self.app.state.counter.count(connector=connector)


async def boot(
    tokens: Callable[[DemoWorld], dict[str, TokenGrant]] | None = None,
    *,
    roomy_bucket: bool = True,
    tracer_provider: TracerProvider | None = None,
    **settings: Any,
) -> AsyncIterator[Demo]:
    """The stack, with ``settings`` over the test defaults (scheduled syncs off unless a
    test sets ``sync_interval_seconds``); ``tokens`` adds bearer tokens made from the
    generated world (e.g. staff tokens bound to its stores); ``tracer_provider`` receives
    the gateway's spans."""
    sock, url = listening_socket()
    async with sandboxes(make_settings(**settings), people=PEOPLE, gateway_url=url) as stack:
        settings_ = stack.settings
        if tokens is not None:
            settings_ = settings_.model_copy(
                update={"tokens": {**settings_.tokens, **tokens(stack.world)}}
            )
        app = create_app(settings_, tracer_provider=tracer_provider)
        async with aiohttp.ClientSession() as http:
            if roomy_bucket:
                throttle = f"{stack.sandboxes['shopify']}/_sandbox/throttle"
                async with http.post(throttle, json=ROOMY_BUCKET) as answer:
                    assert answer.status == 200, await answer.text()
        async with serve(app, sock) as base, aiohttp.ClientSession() as http:
            await app.state.seeded.wait()
            await app.state.catalog_ready.wait()
            yield Demo(url=base, app=app, stack=stack, http=http)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Demo]:
    """One stack per test module, for tests that only read. Modules using it declare
    ``pytestmark = pytest.mark.asyncio(loop_scope="module")``."""
    async for stack in boot():
        yield stack


@pytest.fixture
async def fresh_demo() -> AsyncIterator[Demo]:
    """A stack of its own, for a test that changes things (faults, erasure)."""
    async for stack in boot():
        yield stack
