from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gateway.app import create_app
from tests.support import make_settings, serve

TOKENS = {
    "sf-token": {"role": "storefront"},
    "staff-token": {"role": "staff", "locations": ["loc-a"]},
    "internal-token": {"role": "internal"},
}


@pytest.fixture
async def gateway_url() -> AsyncIterator[str]:
    """The gateway with no vendor connectors and a memory store, on a loopback port."""
    app = create_app(make_settings(tokens=TOKENS))
    async with serve(app) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
