"""The gateway while its MongoDB store is down: it starts anyway and says so, answers what it
can (``health``), reports what needs the store as ``STORE_UNAVAILABLE`` within the store's
configured timeouts, and becomes ready once the store answers."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import aiohttp
import pytest
from graphql import GraphQLError

from gateway.app import create_app
from resolvers.store import StoreError, VersionConflict
from schema.errors import classify
from tests.gateway.conftest import TOKENS
from tests.support import codes, gql, make_settings, serve

QUERY = """
query($id: ID!) {
  health { version store { kind reachable } }
  customer(id: $id) { id displayName }
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.mongo
async def test_store_down_at_start_then_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from secantus import SecantusDBServer

    port = free_port()
    settings = make_settings(
        tokens=TOKENS,
        mongodb_uri=f"mongodb://127.0.0.1:{port}/",
        mongodb_timeout=0.3,
        mongodb_server_selection_timeout=0.3,
        mongodb_connect_timeout=0.3,
        mongodb_init_retry_seconds=0.2,
    )
    app = create_app(settings)
    caplog.set_level(logging.INFO, logger="omnigate.store")
    async with serve(app) as url, aiohttp.ClientSession() as http:
        # How long a store call may take is the client's configuration, not the driver's 30 s.
        options = app.state.services.store.database.client.options
        assert options.timeout == 0.3
        assert options.server_selection_timeout == 0.3
        assert options.pool_options.connect_timeout == 0.3

        status, body = await gql(http, url, QUERY, token="staff-token", variables={"id": "p1"})
        assert status == 200
        assert "store unreachable at start-up" in caplog.text  # it started all the same
        assert body["data"]["health"]["store"] == {"kind": "mongo", "reachable": False}
        assert body["data"]["health"]["version"]
        assert body["data"]["customer"] is None
        assert codes(body) == ["STORE_UNAVAILABLE"]
        [error] = body["errors"]
        assert error["path"] == ["customer"]
        assert error["message"] == StoreError.public_message
        assert "Timeout" not in str(body)
        assert "127.0.0.1" not in str(body)

        async with http.get(f"{url}/readyz") as resp:
            assert resp.status == 503
            assert (await resp.json())["store"] == {"kind": "mongo", "reachable": False}

        server = SecantusDBServer(port=port, storage_path=str(tmp_path / "secantus"))
        server.start()
        try:
            await app.state.store_ready.wait()  # the retry has initialised the store
            assert "store reachable again" in caplog.text
            async with http.get(f"{url}/readyz") as resp:
                assert resp.status == 200
            status, body = await gql(http, url, QUERY, token="staff-token", variables={"id": "p1"})
            assert "errors" not in body, body
            assert body["data"]["health"]["store"]["reachable"] is True
            assert body["data"]["customer"] is None  # no such customer, and no error
        finally:
            await asyncio.to_thread(server.stop)


async def test_memory_store_starts_ready(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="omnigate.store")
    app = create_app(make_settings(tokens=TOKENS))
    async with serve(app) as url, aiohttp.ClientSession() as http:
        async with http.get(f"{url}/readyz") as resp:
            assert resp.status == 200
        assert app.state.store_ready.is_set()
    assert "store ready (memory)" in caplog.text


def test_store_errors_keep_their_code_and_hide_their_message() -> None:
    for exc, code in (
        (StoreError("mongo get_profiles failed: ServerSelectionTimeoutError"), "STORE_UNAVAILABLE"),
        (VersionConflict("profile p1: version 3 is no longer current"), "CONFLICT"),
    ):
        error = GraphQLError(str(exc), path=["customer"], original_error=exc)
        classify(error)
        assert error.extensions == {"code": code}
        assert error.message == type(exc).public_message
        assert "ServerSelection" not in error.message
        assert "version 3" not in error.message
