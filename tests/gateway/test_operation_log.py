"""One log record per GraphQL operation: its name and type, the caller's role, how long it
took, the error codes it answered and the upstream calls it made; never a variable or the
query text."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from gateway.demo import sandboxes
from gateway.logs import JsonFormatter
from tests.support import gql, listening_socket, make_settings, serve

LOGGER = "omnigate.operations"
FIELDS = {"operation", "operation_type", "role", "duration_ms", "error_codes", "upstream_calls"}


def operations(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: getattr(record, key) for key in FIELDS}


async def test_one_record_per_operation_with_its_fields(
    gateway_url: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    await gql(http, gateway_url, "query Probe { health { version } }")
    await gql(http, gateway_url, 'mutation Refresh { refreshCustomer(id: "nobody") { id } }')
    await gql(http, gateway_url, "{ viewer { role } }", token="staff-token")
    records = operations(caplog)
    assert len(records) == 3
    probe, refresh, viewer = (fields(r) for r in records)
    assert probe["operation"] == "Probe"
    assert probe["operation_type"] == "query"
    assert probe["role"] == "anonymous"
    assert probe["error_codes"] == []
    assert probe["upstream_calls"] == 0
    assert isinstance(probe["duration_ms"], float)
    assert probe["duration_ms"] >= 0
    assert refresh["operation"] == "Refresh"
    assert refresh["operation_type"] == "mutation"
    assert refresh["error_codes"] == ["UNAUTHENTICATED"]
    assert viewer["operation"] is None  # anonymous operation
    assert viewer["role"] == "staff"
    assert "Probe" in records[0].getMessage()


async def test_refused_documents_are_logged_with_their_codes(
    gateway_url: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    await gql(http, gateway_url, "{ health { version ")
    await gql(http, gateway_url, "query A { health { nope } }")
    async with http.post(
        f"{gateway_url}/graphql",
        json={"query": "query A { health { version } }", "operationName": "ada@example.com"},
    ) as resp:
        assert resp.status == 400
    records = [fields(r) for r in operations(caplog)]
    assert [r["error_codes"] for r in records] == [
        ["GRAPHQL_PARSE_FAILED"],
        ["GRAPHQL_VALIDATION_FAILED"],
        ["BAD_REQUEST"],
    ]
    assert records[1]["operation"] == "A"
    # A name the document does not define is the client's free text: not logged.
    assert records[2]["operation"] is None
    assert all("ada@example.com" not in str(r) for r in caplog.records)


async def test_variables_and_query_text_are_never_logged(
    gateway_url: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email = "ada.lovelace@example.com"
    query = (
        "query Find($q: String!) { customerLookup(query: $q) { id }"
        ' other: customerLookup(query: "555-0100") { id } }'
    )
    await gql(http, gateway_url, query, variables={"q": email}, token="staff-token")
    [record] = operations(caplog)
    assert fields(record)["operation"] == "Find"
    formatted = JsonFormatter().format(record)
    assert json.loads(formatted)["upstream_calls"] == 0
    for text in (formatted, record.getMessage(), caplog.text):
        assert email not in text
        assert "555-0100" not in text
        assert "customerLookup" not in text


@pytest.fixture
async def stack() -> AsyncIterator[tuple[str, Any, list[str]]]:
    """The gateway in front of the three sandboxes, seeded, and two people's emails."""
    sock, url = listening_socket()
    async with sandboxes(make_settings(), people=40, gateway_url=url) as demo:
        app = create_app(demo.settings)
        async with serve(app, sock) as base:
            await app.state.seeded.wait()
            emails = [p.email for p in demo.world.people if p.email]
            yield base, app, emails[:2]


async def test_upstream_calls_are_counted_per_operation(
    stack: tuple[str, Any], http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Two refreshes at once: each record counts its own calls, which add up to what went on
    the wire (a process-wide delta would give each the total)."""
    url, app, emails = stack
    lookup = "query($q: String!) { customerLookup(query: $q) { id } }"
    profiles = []
    for email in emails:
        _, body = await gql(http, url, lookup, token="demo-staff", variables={"q": email})
        profiles.append(body["data"]["customerLookup"][0]["id"])
    assert len(set(profiles)) == 2
    await app.state.services.customers.wait_idle()
    caplog.set_level(logging.INFO, logger=LOGGER)
    caplog.clear()
    before = app.state.counter.count()
    mutation = "mutation Refresh($id: ID!) { refreshCustomer(id: $id) { id } }"
    answers = await asyncio.gather(
        *(gql(http, url, mutation, token="demo-internal", variables={"id": p}) for p in profiles)
    )
    assert all("errors" not in body for _, body in answers), answers
    total = app.state.counter.count() - before
    counts = [fields(r)["upstream_calls"] for r in operations(caplog)]
    assert len(counts) == 2
    assert all(count > 0 for count in counts)
    assert sum(counts) == total
