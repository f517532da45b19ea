"""``_service { sdl }``: open outside production; in production only for the router's token
(``OMNIGATE_ROUTER_TOKEN``) or an internal token, as introspection is off there too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gateway.app import create_app
from schema.build import export_sdl
from tests.gateway.conftest import TOKENS
from tests.support import codes, gql, make_settings, serve

SDL = "{ _service { sdl } }"
ENTITIES = (
    'query { _entities(representations: [{__typename: "Customer", id: "cus_x"}]) '
    "{ ... on Customer { id } } }"
)


@pytest.fixture
async def production_url() -> AsyncIterator[str]:
    settings = make_settings(
        environment="production",
        customer_token_secret="prod-secret-" * 4,
        tokens=TOKENS,
        router_token="router-token",
    )
    async with serve(create_app(settings)) as url:
        yield url


async def test_production_refuses_the_sdl_to_anonymous_callers(
    production_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, production_url, SDL)
    assert status == 200
    assert codes(body) == ["UNAUTHENTICATED"]
    assert "OMNIGATE_ROUTER_TOKEN" in body["errors"][0]["message"]
    assert body["data"] is None
    assert "type Customer" not in str(body)


async def test_production_refuses_the_sdl_to_storefront_and_staff(
    production_url: str, http: aiohttp.ClientSession
) -> None:
    for token in ("sf-token", "staff-token"):
        _, body = await gql(http, production_url, SDL, token=token)
        assert codes(body) == ["FORBIDDEN"], token
        assert "type Customer" not in str(body)


async def test_production_gives_the_sdl_to_the_router_and_internal_tokens(
    production_url: str, http: aiohttp.ClientSession
) -> None:
    for token in ("router-token", "internal-token"):
        _, body = await gql(http, production_url, SDL, token=token)
        assert "errors" not in body, body
        sdl = body["data"]["_service"]["sdl"]
        assert 'type Customer @key(fields: "id")' in sdl
        assert sdl + "\n" == export_sdl(federation=True)  # the same SDL as outside production


async def test_the_router_token_reads_no_entities(
    production_url: str, http: aiohttp.ClientSession
) -> None:
    _, body = await gql(http, production_url, ENTITIES, token="router-token")
    assert codes(body) == ["FORBIDDEN"]
    _, body = await gql(http, production_url, ENTITIES)
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_the_router_token_is_a_router_viewer(
    production_url: str, http: aiohttp.ClientSession
) -> None:
    _, body = await gql(http, production_url, "{ viewer { role } }", token="router-token")
    assert body["data"]["viewer"]["role"] == "ROUTER"
    _, body = await gql(
        http, production_url, '{ customer(id: "cus_x") { id } }', token="router-token"
    )
    assert codes(body) == ["FORBIDDEN"]


async def test_outside_production_the_sdl_stays_open(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, gateway_url, SDL)
    assert status == 200
    assert 'type Customer @key(fields: "id")' in body["data"]["_service"]["sdl"]
