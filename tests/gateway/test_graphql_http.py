"""GraphQL over HTTP: auth gates, hygiene limits, and errors that always carry a code."""

from __future__ import annotations

import aiohttp

from tests.support import codes, gql, page_config

HEALTH = "{ health { version demoMode store { kind reachable } connectors { name } } }"


async def test_anonymous_may_read_health_only(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, gateway_url, HEALTH)
    assert status == 200
    assert body["data"]["health"]["store"] == {"kind": "memory", "reachable": True}
    assert body["data"]["health"]["version"]

    status, body = await gql(http, gateway_url, "{ viewer { role } }")
    assert status == 200
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_tokens_reach_the_viewer(gateway_url: str, http: aiohttp.ClientSession) -> None:
    _, body = await gql(http, gateway_url, "{ viewer { role locationIds } }", token="staff-token")
    assert body["data"]["viewer"] == {"role": "STAFF", "locationIds": ["loc-a"]}
    status, body = await gql(http, gateway_url, "{ viewer { role } }", token="unknown")
    assert status == 401
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_malformed_graphql_is_a_parse_error(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, gateway_url, "{ health { version ")
    assert status in (200, 400)
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "Traceback" not in str(body)


async def test_unknown_field_is_a_validation_error(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, gateway_url, "{ health { nope } }")
    assert status in (200, 400)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "nope" in body["errors"][0]["message"]


async def test_two_megabyte_body_is_refused(gateway_url: str, http: aiohttp.ClientSession) -> None:
    padding = "#" + "x" * (2 * 1024 * 1024) + "\n"
    async with http.post(
        f"{gateway_url}/graphql", json={"query": padding + "{ health { version } }"}
    ) as resp:
        assert resp.status == 413
        body = await resp.json()
    assert codes(body) == ["REQUEST_TOO_LARGE"]


async def test_chunked_oversized_body_is_refused(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    async with http.post(
        f"{gateway_url}/graphql", data=chunks(), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413


async def test_depth_40_query_is_refused(gateway_url: str, http: aiohttp.ClientSession) -> None:
    inner = "version"
    for _ in range(40):
        inner = f"store {{ {inner} }}"
    status, body = await gql(http, gateway_url, f"{{ health {{ {inner} }} }}")
    assert status in (200, 400)
    assert "QUERY_TOO_DEEP" in codes(body)
    assert body.get("data") is None


async def test_fan_out_of_fragments_is_refused_and_health_answers(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    """The attack of issue #16: an anonymous query spreading two fragments per level, twenty
    levels deep. The limits measure each fragment once, so it is refused at once."""
    levels = 20
    parts = ["{ ...L0 }"]
    parts += [
        f"fragment L{i} on Health {{ store {{ ...L{i + 1} ...M{i + 1} }} }}"
        f" fragment M{i} on Health {{ store {{ ...L{i + 1} ...M{i + 1} }} }}"
        for i in range(levels)
    ]
    parts.append(
        f"fragment L{levels} on Health {{ version }} fragment M{levels} on Health {{ version }}"
    )
    query = "\n".join(parts).replace("{ ...L0 }", "{ health { ...L0 ...M0 } }", 1)
    status, body = await gql(http, gateway_url, query)
    assert status in (200, 400)
    assert "QUERY_TOO_DEEP" in codes(body)
    status, body = await gql(http, gateway_url, HEALTH)
    assert status == 200
    assert body["data"]["health"]["version"]


async def test_500_aliases_are_refused(gateway_url: str, http: aiohttp.ClientSession) -> None:
    query = "{ " + " ".join(f"a{i}: health {{ version }}" for i in range(500)) + " }"
    status, body = await gql(http, gateway_url, query)
    assert status in (200, 400)
    assert codes(body) == ["TOO_MANY_ALIASES"]


async def test_too_many_tokens_are_refused(gateway_url: str, http: aiohttp.ClientSession) -> None:
    query = "{ health { " + "version " * 6000 + "} }"
    status, body = await gql(http, gateway_url, query)
    assert status in (200, 400)
    assert codes(body) == ["TOO_MANY_TOKENS"]


async def test_malformed_json_body_gets_a_graphql_error(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{gateway_url}/graphql", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert codes(body) == ["BAD_REQUEST"]


async def test_get_queries_and_graphiql(gateway_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{gateway_url}/graphql", params={"query": "{ health { version } }"}) as r:
        assert r.status == 200
        assert (await r.json())["data"]["health"]["version"]
    async with http.get(f"{gateway_url}/graphql", headers={"Accept": "text/html"}) as r:
        assert r.status == 200
        html = await r.text()
    tabs = page_config(html)["tabs"]
    assert any("query CounterLookup" in t["query"] for t in tabs)
    assert any("subscription LiveStock" in t["query"] for t in tabs)
    assert '"Authorization": "Bearer demo-staff"' in [t["headers"] for t in tabs][1]


async def test_probes(gateway_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{gateway_url}/healthz") as r:
        assert r.status == 200
        assert (await r.json())["status"] == "ok"
    async with http.get(f"{gateway_url}/readyz") as r:
        assert r.status == 200
        body = await r.json()
    assert body["ready"] is True
    assert body["store"]["kind"] == "memory"


async def test_unknown_webhook_vendor_is_404(gateway_url: str, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{gateway_url}/webhooks/acme", data=b"{}") as r:
        assert r.status == 404


CUSTOMER_BY_ID = "query One($id: ID!) { customer(id: $id) { id } }"
LOOKUP = 'query Find($first: Int!) { customerLookup(query: "ada", first: $first) { id } }'


async def test_null_for_a_non_null_variable_is_bad_user_input(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    _, body = await gql(http, gateway_url, CUSTOMER_BY_ID, variables={"id": None})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "variable": "id"}
    assert "$id" in body["errors"][0]["message"]
    assert body["data"] is None


async def test_a_missing_variable_is_bad_user_input(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    _, body = await gql(http, gateway_url, CUSTOMER_BY_ID, variables={})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "variable": "id"}
    assert "$id" in body["errors"][0]["message"]


async def test_a_variable_of_the_wrong_type_is_bad_user_input(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    _, body = await gql(http, gateway_url, LOOKUP, variables={"first": "ten"}, token="staff-token")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["variable"] == "first"
    assert "Int" in body["errors"][0]["message"]


async def test_each_bad_variable_is_named(gateway_url: str, http: aiohttp.ClientSession) -> None:
    query = (
        "query Two($id: ID!, $first: Int)"
        " { customer(id: $id) { id orders(first: $first) { __typename } } }"
    )
    _, body = await gql(http, gateway_url, query, variables={"first": [1, 2]})
    assert {e["extensions"]["variable"] for e in body["errors"]} == {"id", "first"}
    assert set(codes(body)) == {"BAD_USER_INPUT"}


async def test_an_unused_variable_is_still_a_validation_error(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    _, body = await gql(http, gateway_url, "query($n: Int) { health { version } }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
