"""Trusted documents: with a manifest, a storefront token runs the manifest's operations (by
text, or by id alone on a replica that never saw them) and nothing else, over HTTP and over
the WebSocket; other roles are not held to it; a manifest that cannot be read stops the
start."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from gateway.settings import StartupError
from gateway.trusted_documents import NOT_IN_LIST, TrustedDocuments, trusted_documents
from resolvers.viewer import Role, Viewer
from tests.e2e.ws import OperationEnded, connect
from tests.gateway.conftest import TOKENS
from tests.support import codes, gql, make_settings, production_settings, serve

LISTED = "query Health { health { version } }"
LISTED_ID = hashlib.sha256(LISTED.encode()).hexdigest()
OTHER = "query Viewer { viewer { role } }"
LIVE = 'subscription Live { stockChanged(skus: ["SKU-1"]) { cursor } }'


def apollo_manifest(*bodies: str) -> dict[str, Any]:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": hashlib.sha256(b.encode()).hexdigest(), "name": "x", "type": "query", "body": b}
            for b in bodies
        ],
    }


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(json.dumps(apollo_manifest(LISTED)))
    return path


@pytest.fixture
async def trusted_url(manifest: Path) -> AsyncIterator[str]:
    app = create_app(make_settings(tokens=TOKENS, trusted_documents=str(manifest)))
    async with serve(app) as url:
        yield url


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{url}/graphql", json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


def by_id(digest: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}


async def test_a_storefront_runs_listed_operations_by_text_or_by_id_alone(
    trusted_url: str, http: aiohttp.ClientSession
) -> None:
    status, by_text = await gql(http, trusted_url, LISTED, token="sf-token")
    assert status == 200
    assert by_text["data"]["health"]["version"], by_text
    # First request to this replica, no registration: the manifest knows the id.
    assert await post(http, trusted_url, by_id(LISTED_ID), "sf-token") == by_text


async def test_a_storefront_is_refused_anything_else(
    trusted_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, trusted_url, OTHER, token="sf-token")
    assert status == 200
    assert codes(body) == [NOT_IN_LIST]
    assert body["data"] is None
    # The same text with whitespace changed is another document, not the listed one.
    status, body = await gql(http, trusted_url, LISTED + " ", token="sf-token")
    assert codes(body) == [NOT_IN_LIST]
    # Registering it as an automatic persisted query does not make it trusted either.
    other_id = hashlib.sha256(OTHER.encode()).hexdigest()
    registered = await post(http, trusted_url, {"query": OTHER, **by_id(other_id)}, "sf-token")
    assert codes(registered) == [NOT_IN_LIST]
    assert codes(await post(http, trusted_url, by_id(other_id), "sf-token")) == [NOT_IN_LIST]
    unknown = await post(http, trusted_url, by_id("0" * 64), "sf-token")
    assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_roles_the_manifest_does_not_cover_run_any_operation(
    trusted_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await gql(http, trusted_url, OTHER, token="staff-token")
    assert (status, body.get("errors")) == (200, None)
    assert body["data"]["viewer"]["role"] == "STAFF"


async def test_a_subscription_outside_the_manifest_is_refused_on_the_websocket(
    trusted_url: str,
) -> None:
    async with connect(trusted_url, token="sf-token") as client:
        refused = await client.subscribe(LIVE)
        with pytest.raises(OperationEnded) as ended:
            await refused.data("stockChanged")
    assert ended.value.codes == [NOT_IN_LIST]


async def test_more_roles_can_be_held_to_it(manifest: Path, http: aiohttp.ClientSession) -> None:
    settings = make_settings(
        tokens=TOKENS, trusted_documents=str(manifest), trusted_documents_roles="anonymous,staff"
    )
    async with serve(create_app(settings)) as url:
        for token in (None, "staff-token"):
            _, body = await gql(http, url, OTHER, token=token)
            assert codes(body) == [NOT_IN_LIST], token
        _, body = await gql(http, url, OTHER, token="sf-token")
        assert body.get("errors") is None


def test_the_plain_map_of_id_to_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({"abc": LISTED}))
    documents = TrustedDocuments.load(path, [Role.STOREFRONT])
    assert documents.body("abc") == LISTED
    storefront = Viewer(Role.STOREFRONT)
    assert documents.refusal(storefront, LISTED) is None
    assert documents.refusal(storefront, OTHER) is not None
    assert documents.refusal(Viewer(Role.INTERNAL), OTHER) is None


@pytest.mark.parametrize(
    "content",
    [
        None,  # no such file
        "{not json",
        json.dumps([LISTED]),
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}),
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [1]}),
        json.dumps({"id": 1}),
        json.dumps({}),
    ],
)
def test_a_manifest_that_cannot_be_used_stops_the_start(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StartupError, match="OMNIGATE_TRUSTED_DOCUMENTS"):
        create_app(make_settings(trusted_documents=str(path)))


def test_production_says_when_storefront_tokens_have_no_manifest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="omnigate.trusted_documents"):
        assert trusted_documents(production_settings(tokens=TOKENS)) is None
    assert "OMNIGATE_TRUSTED_DOCUMENTS" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="omnigate.trusted_documents"):
        trusted_documents(make_settings(tokens=TOKENS))
    assert caplog.text == ""
