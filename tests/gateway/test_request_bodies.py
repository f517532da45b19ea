"""Whatever a client sends, the answer is a GraphQL error body with a code: a 4xx for a request
the gateway cannot read, never a plain 500."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.support import codes

JSON = {"Content-Type": "application/json"}


async def _send(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, f"{url}/graphql", **kwargs) as resp:
        assert resp.content_type == "application/json"
        return resp.status, json.loads(await resp.text())


UNREADABLE = {
    "null": b"null",
    "a string": b'"{ health { version } }"',
    "a number": b"42",
    "a boolean": b"true",
    "empty": b"",
    "invalid UTF-8": b'{"query": "{ health { version } }", "operationName": "\xff\xfe"}',
    "UTF-16": '{"query": "{ health { version } }"}'.encode("utf-16-be"),
    "nested arrays": b'{"query": "{ health { version } }", "variables": {"a": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}}",
    "nested objects": b'{"query": "{ health { version } }", "extensions": '
    + b'{"a": ' * 50_000
    + b"1"
    + b"}" * 50_000
    + b"}",
    "a 5000-digit number": b'{"query": "{ health { version } }", "variables": {"n": '
    + b"9" * 5000
    + b"}}",
    "not JSON": b"{query: health}",
}


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_unreadable_json_bodies_are_400(
    body: bytes, gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, answer = await _send(http, "POST", gateway_url, data=body, headers=JSON)
    assert status == 400
    assert codes(answer) == ["BAD_REQUEST"]
    assert answer["data"] is None


MALFORMED = {
    "variables not an object": {"query": "{ health { version } }", "variables": [1]},
    "variables a string": {"query": "{ health { version } }", "variables": '{"a": 1}'},
    "query not a string": {"query": {"health": "version"}},
    "no query": {"variables": {}},
    "extensions not an object": {"query": "{ health { version } }", "extensions": 1},
    "operationName names no operation": {
        "query": "query A { health { version } }",
        "operationName": "B",
    },
    "operationName not a string": {"query": "query A { health { version } }", "operationName": 5},
    "a batch": [{"query": "{ health { version } }"}],
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_requests_are_400(
    body: object, gateway_url: str, http: aiohttp.ClientSession
) -> None:
    status, answer = await _send(http, "POST", gateway_url, json=body)
    assert status == 400
    assert codes(answer) == ["BAD_REQUEST"]


async def test_operation_name_must_be_a_string(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    body = {"query": "query A { health { version } }", "operationName": ["A"]}
    _, answer = await _send(http, "POST", gateway_url, json=body)
    assert "operationName" in answer["errors"][0]["message"]


async def test_two_anonymous_operations_are_refused(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    body = {"query": "{ health { version } } { health { demoMode } }"}
    status, answer = await _send(http, "POST", gateway_url, json=body)
    assert status == 200
    assert set(codes(answer)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "anonymous operation must be the only defined operation" in str(answer)
    assert answer["data"] is None


async def test_a_mutation_over_get_is_refused(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    params = {"query": 'mutation { refreshCustomer(id: "x") { id } }'}
    status, answer = await _send(http, "GET", gateway_url, params=params)
    assert status == 400
    assert codes(answer) == ["BAD_REQUEST"]


async def test_bad_get_variables_are_400(gateway_url: str, http: aiohttp.ClientSession) -> None:
    for variables in ("{not json", "[1]", '"a"'):
        params = {"query": "{ health { version } }", "variables": variables}
        status, answer = await _send(http, "GET", gateway_url, params=params)
        assert status == 400, variables
        assert codes(answer) == ["BAD_REQUEST"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_other_content_types_are_415(
    content_type: str, gateway_url: str, http: aiohttp.ClientSession
) -> None:
    body = b'{"query": "{ health { version } }"}'
    status, answer = await _send(
        http, "POST", gateway_url, data=body, headers={"Content-Type": content_type}
    )
    assert status == 415
    assert codes(answer) == ["BAD_REQUEST"]
    assert "application/json" in answer["errors"][0]["message"]


async def test_a_json_body_with_whitespace_still_works(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    body = b' \r\n\t{"query": "{ health { version } }"}'
    status, answer = await _send(http, "POST", gateway_url, data=body, headers=JSON)
    assert status == 200
    assert answer["data"]["health"]["version"]
