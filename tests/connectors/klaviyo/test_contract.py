"""Contract tests: requests the connector builds and responses the sandbox gives, validated
against Klaviyo's OpenAPI documents in ``shared/specs/klaviyo`` (skipped without them).

The conftest's middleware already validates every exchange of every test in this folder;
here each operation is exercised on purpose, response pages are validated in full (not
sampled), and the checker itself is shown to catch a non-conforming document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.klaviyo.connector import REQUIRED_SCOPES, KlaviyoConnector
from connectors.klaviyo.mapping import bulk_import_body, deletion_body, patch_body
from connectors.klaviyo.writer import WriterSettings
from connectors.records import Money, ProfileUpdate
from sandboxes.base.faults import Fault, FaultMode
from sandboxes.demo.world import DemoWorld
from tests.connectors.klaviyo.conftest import (
    API_KEY,
    INVALID_ON_PURPOSE,
    MakeConnector,
    Sandbox,
)
from tests.connectors.klaviyo.contract import SKIP_REASON, Contract, specs_available

pytestmark = pytest.mark.skipif(not specs_available(), reason=SKIP_REASON)

HEADERS = {
    "Authorization": f"Klaviyo-API-Key {API_KEY}",
    "revision": "2026-07-15",
    "Accept": "application/vnd.api+json",
    "Content-Type": "application/vnd.api+json",
}

#: Every operation the connector calls.
CONNECTOR_OPERATIONS = {
    "get_profiles",
    "update_profile",
    "bulk_import_profiles",
    "get_bulk_import_profiles_job",
    "get_events",
    "get_metrics",
    "request_profile_deletion",
}


@pytest.fixture(scope="module")
def spec() -> Contract:
    return Contract()


def test_required_scopes_are_those_the_spec_names_for_the_operations_called(
    spec: Contract,
) -> None:
    scopes = {
        scope
        for _, operation in spec._operations
        if operation.operation_id in CONNECTOR_OPERATIONS
        for scope in operation.spec["x-klaviyo-scopes"]
    }
    assert set(REQUIRED_SCOPES) == scopes
    doc = (Path(__file__).resolve().parents[3] / "docs" / "connectors" / "klaviyo.md").read_text()
    for scope in scopes:
        assert f"`{scope}`" in doc, scope


def test_patch_body_validates_against_profile_partial_update_query(spec: Contract) -> None:
    body = patch_body(
        ProfileUpdate(
            "01GDDKASAP8TKDDA2GRZDSVP4H",
            None,
            {"points": 120, "lifetime_value": Money.of("10", "USD"), "favourite_store": None},
        )
    )
    assert spec.schema_errors("profiles", "ProfilePartialUpdateQuery", body) == []
    assert body["data"]["meta"] == {"patch_properties": {"unset": ["omnigate_favourite_store"]}}


def test_bulk_import_body_validates_against_profile_import_job_create_query(
    spec: Contract,
) -> None:
    body = bulk_import_body(
        [
            ProfileUpdate("01GDDKASAP8TKDDA2GRZDSVP4H", None, {"points": 1, "tier": "gold"}),
            ProfileUpdate(None, "bo@example.com", {"omnichannel": True, "unified_id": None}),
        ]
    )
    assert spec.schema_errors("profiles", "ProfileImportJobCreateQuery", body) == []


@pytest.mark.parametrize("who", [{"email": "bo@example.com"}, {"phone": "+12125550100"}])
def test_deletion_body_validates_against_data_privacy_create_deletion_job_query(
    spec: Contract, who: dict[str, str]
) -> None:
    body = deletion_body(**who)
    assert spec.schema_errors("data_privacy", "DataPrivacyCreateDeletionJobQuery", body) == []


def test_the_checker_catches_documents_that_break_the_spec(spec: Contract) -> None:
    broken_profile = {"data": [{"type": "profile", "id": "x", "attributes": {"email": 5}}]}
    problems = spec.check_response(spec.operation("GET", "/api/profiles"), 200, broken_profile)  # type: ignore[arg-type]
    assert any("links" in p for p in problems)
    assert any("email" in p for p in problems)
    bad_patch = {"data": {"type": "profile", "attributes": {"properties": []}}}
    patch = spec.operation("PATCH", "/api/profiles/abc")
    assert patch is not None
    problems = spec.check_request(
        patch, query={"page[size]": "5"}, headers={"revision": "x"}, body=bad_patch
    )
    assert any("id" in p for p in problems)
    assert any("page[size]" in p for p in problems)


async def _exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = json.dumps(body) if body is not None else None
    async with session.request(method, url, data=data, headers=headers) as response:
        raw = await response.read()
        return response.status, json.loads(raw) if raw else None


async def test_every_response_type_validates_in_full(
    spec: Contract, sandbox: Sandbox, world: DemoWorld
) -> None:
    base = f"{sandbox.url}/api"
    pid = world.klaviyo_profiles[0].id
    metric = world.klaviyo_metrics[0].id
    calls: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None]] = [
        ("GET", "/profiles?page[size]=100&additional-fields[profile]=subscriptions", None, None),
        ("GET", "/profiles?filter=equals(email,'nobody@example.com')", None, None),
        ("GET", f"/profiles/{pid}?additional-fields[profile]=subscriptions", None, None),
        ("GET", "/events?page[size]=200&include=metric,profile", None, None),
        ("GET", f'/events?filter=equals(metric_id,"{metric}")&sort=-datetime', None, None),
        ("GET", "/metrics", None, None),
        ("PATCH", f"/profiles/{pid}", patch_body(ProfileUpdate(pid, None, {"points": 3})), None),
        (
            "POST",
            "/profile-bulk-import-jobs",
            bulk_import_body([ProfileUpdate(pid, None, {"tier": "gold"})]),
            None,
        ),
        ("POST", "/data-privacy-deletion-jobs", deletion_body(email="person9@example.com"), None),
        # Errors: 400 (bad filter, page size), 401, 404, 409.
        ("GET", '/events?filter=any(profile_id,["a","b"])', None, None),
        ("GET", "/profiles?page[size]=101", None, {INVALID_ON_PURPOSE: "1"}),
        ("GET", "/profiles", None, {"Authorization": "Klaviyo-API-Key wrong"}),
        ("GET", "/profiles/01NOPE", None, None),
        (
            "PATCH",
            f"/profiles/{pid}",
            patch_body(ProfileUpdate("01OTHER", None, {"points": 3})),
            None,
        ),
    ]
    seen: set[tuple[str, int]] = set()
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        for method, path, body, headers in calls:
            status, document = await _exchange(
                session, method, base + path, body=body, headers=headers
            )
            operation = spec.operation(method, path.split("?")[0].replace("/", "/api/", 1))
            assert operation is not None, path
            assert spec.check_response(operation, status, document, sample=False) == [], path
            seen.add((operation.operation_id, status))
        (job_id,) = sandbox.state.store.jobs
        status, document = await _exchange(
            session, "GET", f"{base}/profile-bulk-import-jobs/{job_id}"
        )
        job_op = spec.operation("GET", f"/api/profile-bulk-import-jobs/{job_id}")
        assert job_op is not None
        assert spec.check_response(job_op, status, document, sample=False) == []
    assert {
        ("get_profiles", 200),
        ("get_profile", 200),
        ("get_events", 200),
        ("get_metrics", 200),
        ("update_profile", 200),
        ("bulk_import_profiles", 202),
        ("request_profile_deletion", 202),
        ("get_events", 400),
        ("get_profiles", 400),
        ("get_profiles", 401),
        ("get_profile", 404),
        ("update_profile", 409),
    } <= seen


async def test_a_connector_session_covers_every_operation_it_uses(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    """Drive every connector feature once; the middleware validated each request and
    response against the spec (problems fail the test at teardown)."""
    connector: KlaviyoConnector = await make_connector(
        sandbox, writer=WriterSettings(linger=0, poll_first=0.01)
    )
    profiles = await connector.profiles(
        emails=[p.email or "" for p in world.klaviyo_profiles[:100]]
    )
    await connector.engagement([p.id for p in profiles])
    await connector.update_profiles([ProfileUpdate(profiles[0].id, None, {"points": 1})])
    await connector.flush()
    await connector.update_profiles(
        [ProfileUpdate(p.id, None, {"points": 2, "tier": "gold"}) for p in profiles[:20]]
    )
    await connector.flush()
    await connector.request_deletion(email=profiles[-1].email, phone=None)
    sandbox.faults.add(Fault("get_profiles", FaultMode.STATUS_429, retry_after=0, count=1))
    await connector.profiles(ids=[profiles[1].id])
    assert sandbox.contract is not None
    operations = {key.split()[0] for key in sandbox.contract.checked}
    assert operations >= CONNECTOR_OPERATIONS
    assert "get_profiles 429" in sandbox.contract.checked
    assert sandbox.contract.problems == []
