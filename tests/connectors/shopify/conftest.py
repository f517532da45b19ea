"""Fixtures for the Shopify connector tests: demo worlds, sandboxes on loopback, connectors.

The official 2026-01 SDL is read from ``../shared/specs/`` (beside the repository); tests that
need it skip with a message when that folder is absent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from graphql import DocumentNode, GraphQLSchema, build_ast_schema, parse

from connectors.http import HttpConfig
from connectors.metrics import RequestCounter
from connectors.shopify.connector import ShopifyConfig, ShopifyConnector
from sandboxes.base.faults import FAULTS
from sandboxes.base.server import run_app
from sandboxes.demo import DemoWorld, generate
from sandboxes.shopify import ENDPOINT, SANDBOX, create_sandbox
from sandboxes.shopify.bucket import Bucket
from sandboxes.shopify.control import Control
from tests.specs import SPECS, missing

OFFICIAL_SDL = SPECS / "shopify" / "admin_2026-01.graphql"

TOKEN = "shpat_test_token"
SECRET = "test-webhook-secret"
API = "/admin/api/2026-01/graphql.json"


@pytest.fixture(scope="session")
def official_document() -> DocumentNode:
    """Shopify's full SDL, parsed once per session (it takes a few seconds)."""
    if not OFFICIAL_SDL.is_file():
        pytest.skip(missing("Shopify's official Admin API SDL", OFFICIAL_SDL))
    return parse(OFFICIAL_SDL.read_text(encoding="utf-8"), no_location=True)


@pytest.fixture(scope="session")
def official_schema(official_document: DocumentNode) -> GraphQLSchema:
    schema = build_ast_schema(official_document)
    # graphql-core rejects the official schema as a whole (a few implementations deprecate
    # an interface field Shopify keeps current), which says nothing about our documents;
    # mark it validated so documents can be checked against it.
    schema._validation_errors = []
    return schema


@pytest.fixture(scope="session")
def world() -> DemoWorld:
    return generate(people=200, seed=7)


@pytest.fixture(scope="session")
def big_world() -> DemoWorld:
    """At least 500 Shopify customers."""
    built = generate(people=800, seed=7)
    assert len(built.shopify_customers) >= 500
    return built


@dataclass
class Shop:
    """A running Shopify sandbox."""

    url: str
    app: web.Application

    @property
    def control(self) -> Control:
        return self.app[SANDBOX]

    @property
    def bucket(self) -> Bucket:
        return self.app[ENDPOINT].bucket

    def requests(self) -> int:
        return self.app[FAULTS].request_counts().get("graphql", 0)

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """A control-API call (``path`` below ``/_sandbox``)."""
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"{self.url}/_sandbox{path}", json=body) as response,
        ):
            return response.status, await response.json()

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str = TOKEN,
    ) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.url}{API}",
                json={"query": query, "variables": variables or {}},
                headers={"X-Shopify-Access-Token": token},
            ) as response,
        ):
            return response.status, await response.json()


StartShop = Callable[..., Awaitable[Shop]]
MakeConnector = Callable[..., Awaitable[ShopifyConnector]]


@pytest.fixture
async def start_shop() -> AsyncIterator[StartShop]:
    async with AsyncExitStack() as stack:

        async def start(world: DemoWorld, **options: Any) -> Shop:
            options.setdefault("access_token", TOKEN)
            options.setdefault("webhook_secret", SECRET)
            app = create_sandbox(world, **options)
            url = await stack.enter_async_context(run_app(app))
            return Shop(url, app)

        yield start


@pytest.fixture
async def make_connector() -> AsyncIterator[MakeConnector]:
    made: list[ShopifyConnector] = []

    async def make(
        shop: Shop,
        *,
        counter: RequestCounter | None = None,
        http: dict[str, Any] | None = None,
        **config: Any,
    ) -> ShopifyConnector:
        config.setdefault("access_token", TOKEN)
        config.setdefault("webhook_secret", SECRET)
        connector = ShopifyConnector(
            ShopifyConfig(http=HttpConfig(base_url=shop.url, **(http or {})), **config),
            counter=counter or RequestCounter(),
        )
        await connector.start()
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.close()
