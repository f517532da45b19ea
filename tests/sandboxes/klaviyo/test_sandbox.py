"""The sandbox on its own, spoken to with a plain HTTP client like any Klaviyo client would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from connectors.klaviyo.connector import KlaviyoConnector
from connectors.klaviyo.engagement import EngagementSettings
from sandboxes.demo import generate
from sandboxes.demo.world import DemoWorld
from sandboxes.klaviyo.filters import parse_datetime
from tests.connectors.conftest import FakeClock
from tests.connectors.klaviyo.conftest import (
    API_KEY,
    INVALID_ON_PURPOSE,
    MakeConnector,
    MakeSandbox,
    Sandbox,
)
from tests.connectors.klaviyo.world import truth

HEADERS = {
    "Authorization": f"Klaviyo-API-Key {API_KEY}",
    "revision": "2026-07-15",
    "Accept": "application/vnd.api+json",
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: Any = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    sent = dict(HEADERS if headers is None else headers)
    data = raw
    if body is not None:
        sent["Content-Type"] = "application/vnd.api+json"
        data = json.dumps(body).encode()
    async with http.request(method, url, headers=sent, data=data) as response:
        text = await response.read()
        return response.status, json.loads(text) if text else None


def error_of(document: Any) -> dict[str, Any]:
    (error,) = document["errors"]
    assert isinstance(error, dict)
    return error


async def test_revision_header_is_required(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "revision"}
    headers[INVALID_ON_PURPOSE] = "1"
    status, document = await call(http, f"{sandbox.url}/api/profiles", headers=headers)
    assert status == 400
    assert error_of(document)["source"] == {"parameter": "revision"}
    status, _ = await call(
        http,
        f"{sandbox.url}/api/profiles",
        headers={**HEADERS, "revision": "2099-01-01", INVALID_ON_PURPOSE: "1"},
    )
    assert status == 400
    status, _ = await call(
        http, f"{sandbox.url}/api/profiles", headers={**HEADERS, "revision": "2024-10-15.pre"}
    )
    assert status == 200


async def test_missing_and_wrong_keys_are_401(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    status, document = await call(
        http, f"{sandbox.url}/api/profiles", headers={"revision": "2026-07-15"}
    )
    assert (status, error_of(document)["code"]) == (401, "not_authenticated")
    wrong = {**HEADERS, "Authorization": "Bearer " + API_KEY}
    status, document = await call(http, f"{sandbox.url}/api/profiles", headers=wrong)
    assert (status, error_of(document)["code"]) == (401, "authentication_failed")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("filter=equals(email,bob@example.com)", "filter"),
        ('filter=any(email,["a"]', "filter"),
        ('filter=equals(first_name,"Bo")', "filter"),
        ("page[size]=0", "page[size]"),
        ("page[cursor]=%%%", "page[cursor]"),
        ("sort=-first_name", "sort"),
        ("include=lists", "include"),
        ("additional-fields[profile]=everything", "additional-fields[profile]"),
    ],
)
async def test_bad_profile_queries_are_400_naming_the_parameter(
    sandbox: Sandbox, http: aiohttp.ClientSession, query: str, parameter: str
) -> None:
    headers = {**HEADERS, INVALID_ON_PURPOSE: "1"}
    status, document = await call(http, f"{sandbox.url}/api/profiles?{query}", headers=headers)
    assert status == 400
    error = error_of(document)
    assert error["code"] == "invalid"
    assert error["source"] == {"parameter": parameter}


async def test_pages_link_forward_and_back_and_end(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url: str | None = f"{sandbox.url}/api/profiles?page[size]=40&sort=-created"
    pages: list[dict[str, Any]] = []
    while url is not None:
        status, document = await call(http, url)
        assert status == 200
        pages.append(document)
        url = document["links"].get("next")
    assert [len(p["data"]) for p in pages] == [40, 40, 40, 30]
    assert "prev" not in pages[0]["links"]
    assert "prev" in pages[1]["links"]
    created = [parse_datetime(item["attributes"]["created"]) for p in pages for item in p["data"]]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]
    status, back = await call(http, pages[2]["links"]["prev"])
    assert [i["id"] for i in back["data"]] == [i["id"] for i in pages[1]["data"]]


async def test_events_filter_by_metric_and_time_newest_first(
    sandbox: Sandbox, http: aiohttp.ClientSession, world: DemoWorld
) -> None:
    opened = next(m for m in world.klaviyo_metrics if m.name == "Opened Email")
    since = world.now - timedelta(days=30)
    expected = sorted(
        (e for e in world.klaviyo_events if e.metric_id == opened.id and e.time > since),
        key=lambda e: e.time,
        reverse=True,
    )
    query = (
        f'filter=and(equals(metric_id,"{opened.id}"),'
        f"greater-than(datetime,{since.isoformat().replace('+00:00', 'Z')}))"
        "&sort=-datetime&page[size]=1000&fields[event]=datetime"
    )
    status, document = await call(http, f"{sandbox.url}/api/events?{query}")
    assert status == 200
    assert [e["id"] for e in document["data"]] == [e.id for e in expected]
    first = document["data"][0]
    assert set(first["attributes"]) == {"datetime"}
    assert first["relationships"]["profile"]["data"]["id"] == expected[0].profile_id


async def test_events_refuse_a_profile_id_list(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    status, document = await call(
        http, f'{sandbox.url}/api/events?filter=any(profile_id,["a","b"])'
    )
    assert status == 400
    assert "not a valid operator" in error_of(document)["detail"]


async def test_metrics_filter_by_integration(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, document = await call(
        http, f'{sandbox.url}/api/metrics?filter=equals(integration.name,"Shopify")'
    )
    assert status == 200
    assert [m["attributes"]["name"] for m in document["data"]] == ["Placed Order"]


async def test_writes_need_a_json_media_type(
    sandbox: Sandbox, http: aiohttp.ClientSession, world: DemoWorld
) -> None:
    pid = world.klaviyo_profiles[0].id
    headers = {**HEADERS, "Content-Type": "text/plain", INVALID_ON_PURPOSE: "1"}
    status, _document = await call(
        http, f"{sandbox.url}/api/profiles/{pid}", method="PATCH", headers=headers, raw=b"{}"
    )
    assert status == 415


async def test_bulk_job_is_queued_then_completed(
    sandbox: Sandbox, http: aiohttp.ClientSession, world: DemoWorld
) -> None:
    sandbox.state.job_delay = 3600  # processing never starts during this test
    pid = world.klaviyo_profiles[0].id
    body = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {
                    "data": [{"type": "profile", "id": pid, "attributes": {"properties": {"a": 1}}}]
                }
            },
        }
    }
    status, document = await call(
        http, f"{sandbox.url}/api/profile-bulk-import-jobs", method="POST", body=body
    )
    assert status == 202
    job_id = document["data"]["id"]
    status, document = await call(http, f"{sandbox.url}/api/profile-bulk-import-jobs/{job_id}")
    assert document["data"]["attributes"]["status"] == "queued"
    assert "a" not in sandbox.state.store.profiles[pid].properties


async def test_control_api_lists_its_routes(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sandbox.url}/_sandbox/") as response:
        index = await response.json()
    paths = {(r["method"], r["path"]) for r in index["control"]}
    assert index["sandbox"] == "klaviyo"
    assert {
        ("GET", "/_sandbox/profiles"),
        ("POST", "/_sandbox/profiles"),
        ("POST", "/_sandbox/events"),
        ("GET", "/_sandbox/jobs"),
        ("GET", "/_sandbox/deletions"),
        ("GET", "/_sandbox/filters"),
        ("GET", "/_sandbox/rate-limits"),
        ("POST", "/_sandbox/rate-limits"),
    } <= paths


async def test_control_api_adds_a_subscriber_and_an_open_the_connector_then_sees(
    sandbox: Sandbox, make_connector: MakeConnector, http: aiohttp.ClientSession, world: DemoWorld
) -> None:
    async with http.post(
        f"{sandbox.url}/_sandbox/profiles",
        json={
            "email": "New.Subscriber@example.com",
            "first_name": "New",
            "email_consent": "subscribed",
            "properties": {"vip": True},
        },
    ) as response:
        assert response.status == 201
        created = (await response.json())["profile"]
    opened_at = world.now - timedelta(hours=2)
    async with http.post(
        f"{sandbox.url}/_sandbox/events",
        json={
            "email": "new.subscriber@example.com",
            "metric": "Opened Email",
            "datetime": opened_at.isoformat(),
        },
    ) as response:
        assert response.status == 201
    connector: KlaviyoConnector = await make_connector(sandbox)
    (profile,) = await connector.profiles(emails=["new.subscriber@example.com"])
    assert profile.id == created["id"]
    assert profile.properties == {"vip": True}
    assert profile.email_consent is not None
    assert profile.email_consent.can_receive
    engagement = await connector.engagement([profile.id])
    assert engagement[profile.id].last_opened_at == opened_at
    async with http.get(f"{sandbox.url}/_sandbox/filters") as response:
        sent = [f["filter"] for f in (await response.json())["filters"]]
    assert 'any(email,["new.subscriber@example.com"])' in sent
    async with http.get(
        f"{sandbox.url}/_sandbox/profiles", params={"email": "new.subscriber@example.com"}
    ) as response:
        (shown,) = (await response.json())["profiles"]
    assert shown["attributes"]["last_event_date"] is not None


async def test_control_api_changes_rate_limits_for_demos(
    make_sandbox: MakeSandbox, http: aiohttp.ClientSession
) -> None:
    sandbox = await make_sandbox(clock=FakeClock(7000.5))  # time stands still: one window
    async with http.post(
        f"{sandbox.url}/_sandbox/rate-limits",
        json={"operation": "get_profiles", "burst": 1, "steady": 10},
    ) as response:
        view = await response.json()
    assert view["limits"]["get_profiles"] == {"burst": 1, "steady": 10}
    statuses = [(await call(http, f"{sandbox.url}/api/profiles"))[0] for _ in range(2)]
    assert statuses == [200, 429]
    async with http.post(f"{sandbox.url}/_sandbox/rate-limits", json={"enabled": False}) as r:
        assert (await r.json())["enabled"] is False
    statuses = [(await call(http, f"{sandbox.url}/api/profiles"))[0] for _ in range(5)]
    assert statuses == [200] * 5


async def test_the_generated_demo_world_is_served(
    make_sandbox: MakeSandbox, make_connector: MakeConnector
) -> None:
    """The shared generator's world (quirks and all), not only the hand-made one."""
    world = generate(people=300, seed=11)
    sandbox = await make_sandbox(world)
    connector: KlaviyoConnector = await make_connector(sandbox)
    emails = [p.email for p in world.klaviyo_profiles[:100] if p.email]
    profiles = await connector.profiles(emails=emails)
    assert {p.email for p in profiles} == set(emails)
    subscriber = world.quirks.subscriber_only[0]
    (found,) = await connector.profiles(emails=[subscriber.email])
    assert found.id == subscriber.klaviyo_profile_id
    assert found.email_consent is not None
    engagement = await connector.engagement([p.id for p in profiles])
    since = world.now - EngagementSettings().lookback
    opened = 0
    for profile in profiles:
        expected = truth(world, profile.id, since=since)
        got = engagement[profile.id]
        assert (got.last_opened_at, got.last_clicked_at, got.last_event_at) == (
            expected.last_opened,
            expected.last_clicked,
            expected.last_event,
        )
        opened += got.last_opened_at is not None
    assert opened > 0
