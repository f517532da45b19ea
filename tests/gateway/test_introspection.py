"""Standard introspection is answered (GraphiQL, codegen), introspection bombs are refused, and
production can still switch introspection off."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from graphql import get_introspection_query

from gateway.app import create_app
from tests.support import codes, production_settings, serve

#: The exact text GraphiQL sends for its docs and autocomplete: graphql-js 16.9.0's
#: ``getIntrospectionQuery({inputValueDeprecation: true})``, as GraphiQL 3.8.3 (the version
#: our page loads, which bundles graphql 16.9.0) builds it.
GRAPHIQL_QUERY = (Path(__file__).parent / "fixtures" / "graphiql_introspection.graphql").read_text()


async def _post(
    http: aiohttp.ClientSession, url: str, body: dict[str, object]
) -> tuple[int, dict[str, object]]:
    async with http.post(f"{url}/graphql", json=body) as resp:
        return resp.status, await resp.json()


async def test_the_page_still_sends_the_fixture_query(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    """If the page moves to another GraphiQL (web/graphiql/package-lock.json), the fixture
    must be taken again."""
    async with http.get(f"{gateway_url}/graphql", headers={"Accept": "text/html"}) as r:
        html = await r.text()
    assert '<script src="/graphiql/assets/graphiql@3.8.3/graphiql.min.js">' in html
    async with http.get(f"{gateway_url}/graphiql/assets/omnigate-graphiql.js") as r:
        script = await r.text()
    assert "inputValueDeprecation: true," in script


async def test_graphiql_introspection_is_answered(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await _post(
        http, gateway_url, {"query": GRAPHIQL_QUERY, "operationName": "IntrospectionQuery"}
    )
    assert status == 200
    assert "errors" not in body
    schema = body["data"]["__schema"]  # type: ignore[index]
    assert schema["queryType"] == {"name": "Query"}
    assert "Customer" in {t["name"] for t in schema["types"]}


async def test_introspection_with_every_option_is_answered(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    status, body = await _post(http, gateway_url, {"query": query})
    assert status == 200
    assert "errors" not in body
    assert body["data"]["__schema"]["types"]  # type: ignore[index]


BOMBS = {
    "fields": "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
    "mixed lists": (
        '{ __type(name: "Customer") { interfaces { possibleTypes { fields { name } } } } }'
    ),
    "input fields": (
        "{ __schema { types { inputFields { type { inputFields { type { inputFields { name } }"
        " } } } } } }"
    ),
    "through fragments": (
        "{ __schema { types { ...A } } }"
        " fragment A on __Type { fields { type { ...B } } }"
        " fragment B on __Type { fields { type { ...C } } }"
        " fragment C on __Type { fields { name } }"
    ),
}


@pytest.mark.parametrize("query", BOMBS.values(), ids=BOMBS.keys())
async def test_introspection_bombs_are_refused(
    query: str, gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await _post(http, gateway_url, {"query": query})
    assert status == 200
    assert codes(body) == ["INTROSPECTION_TOO_DEEP"]
    assert body["data"] is None


async def test_a_long_of_type_chain_is_not_a_bomb(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    """``ofType`` follows one type, so a long chain is cheap: it is not what is limited."""
    inner = "name"
    for _ in range(20):
        inner = f"ofType {{ {inner} }}"
    status, body = await _post(
        http, gateway_url, {"query": f"{{ __schema {{ types {{ {inner} }} }} }}"}
    )
    assert status == 200
    assert "errors" not in body


async def test_production_refuses_introspection(http: aiohttp.ClientSession) -> None:
    app = create_app(production_settings())
    async with serve(app) as url:
        status, body = await _post(
            http, url, {"query": GRAPHIQL_QUERY, "operationName": "IntrospectionQuery"}
        )
        assert status == 200
        assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection has been disabled" in str(body["errors"])
        assert body["data"] is None
        _, body = await _post(http, url, {"query": "{ health { version } }"})
    assert "errors" not in body
