"""GraphQL over HTTP: auth gates, hygiene limits, and errors that always carry a code."""

from __future__ import annotations

import aiohttp

from tests.support import codes, gql

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
    inner = "name"
    for _ in range(40):
        inner = f"ofType {{ {inner} }}"
    status, body = await gql(http, gateway_url, f"{{ __schema {{ types {{ {inner} }} }} }}")
    assert status in (200, 400)
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert body.get("data") is None


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
    assert "OMNIGATE_TABS" in html
    assert "demo-staff" in html
    assert "query CounterLookup" in html


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
