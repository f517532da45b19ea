"""Automatic persisted queries over HTTP: a hash the gateway does not know is
PERSISTED_QUERY_NOT_FOUND, the text sent with its hash registers it, then the hash alone runs
the operation (POST and GET); a hash that does not match its text is refused and registers
nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp
import pytest

from gateway.persisted import PersistedQueries, PersistedQueryError
from tests.support import codes

QUERY = "query Health { health { version } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str = HASH) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(f"{url}/graphql", json=body) as resp:
        return resp.status, await resp.json()


async def test_miss_register_hit(gateway_url: str, http: aiohttp.ClientSession) -> None:
    status, miss = await post(http, gateway_url, {"extensions": persisted()})
    assert status == 200
    assert codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"

    status, registered = await post(http, gateway_url, {"query": QUERY, "extensions": persisted()})
    assert status == 200
    assert registered["data"]["health"]["version"]

    status, hit = await post(http, gateway_url, {"extensions": persisted()})
    assert (status, hit) == (200, registered)
    params = {"extensions": json.dumps(persisted())}
    accept = {"Accept": "application/json"}
    async with http.get(f"{gateway_url}/graphql", params=params, headers=accept) as resp:
        assert resp.status == 200
        assert await resp.json() == registered


async def test_a_hash_that_does_not_match_is_refused(
    gateway_url: str, http: aiohttp.ClientSession
) -> None:
    other = hashlib.sha256(b"query Other { health { version } }").hexdigest()
    status, body = await post(http, gateway_url, {"query": QUERY, "extensions": persisted(other)})
    assert status == 200
    assert codes(body) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    status, body = await post(http, gateway_url, {"extensions": persisted(other)})
    assert codes(body) == ["PERSISTED_QUERY_NOT_FOUND"]
    for bad in ({"version": 2, "sha256Hash": HASH}, "x", {"version": 1, "sha256Hash": "ZZ"}):
        status, body = await post(http, gateway_url, {"extensions": {"persistedQuery": bad}})
        assert status == 200
        assert codes(body)[0] in ("PERSISTED_QUERY_NOT_SUPPORTED", "BAD_USER_INPUT")


def test_the_table_is_bounded_least_recently_used_out() -> None:
    from strawberry.http import GraphQLRequestData

    table = PersistedQueries(max_entries=2)
    texts = [f"query Q{n} {{ health {{ version }} }}" for n in range(3)]
    for text in texts:
        digest = hashlib.sha256(text.encode()).hexdigest()
        table.resolve(GraphQLRequestData(text, None, None, persisted(digest)))
    assert len(table) == 2
    first = hashlib.sha256(texts[0].encode()).hexdigest()
    with pytest.raises(PersistedQueryError) as dropped:
        table.resolve(GraphQLRequestData(None, None, None, persisted(first)))
    assert dropped.value.code == "PERSISTED_QUERY_NOT_FOUND"
