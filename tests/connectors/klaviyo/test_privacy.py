"""Erasing a person through Klaviyo's Data Privacy API."""

from __future__ import annotations

import pytest

from connectors.errors import UpstreamRateLimited
from connectors.klaviyo.connector import KlaviyoConnector
from sandboxes.base.faults import Fault, FaultMode
from sandboxes.demo.world import DemoWorld
from tests.connectors.klaviyo.conftest import MakeConnector, Sandbox


async def test_deletion_by_email_erases_the_profile_and_its_events(
    sandbox: Sandbox, connector: KlaviyoConnector, world: DemoWorld
) -> None:
    target = world.klaviyo_profiles[2]
    store = sandbox.state.store
    assert any(e.profile_id == target.id for e in store.events)
    await connector.request_deletion(email="person2@example.com", phone=None)
    assert connector.http.counter.outcomes("klaviyo", "request_profile_deletion") == {"202": 1}
    assert target.id not in store.profiles
    assert not any(e.profile_id == target.id for e in store.events)
    (request,) = store.deletions
    assert (request.identifier, request.value, request.deleted_profile_ids) == (
        "email",
        "person2@example.com",
        (target.id,),
    )
    assert await connector.profiles(emails=["person2@example.com"]) == []


async def test_email_and_phone_are_two_jobs_one_identifier_each(
    sandbox: Sandbox, connector: KlaviyoConnector, world: DemoWorld
) -> None:
    # Profile 3 has the phone; profile 6 is someone else with only the email being erased.
    by_phone = world.klaviyo_profiles[3]
    assert by_phone.phone_number is not None
    await connector.request_deletion(email="person6@example.com", phone=by_phone.phone_number)
    store = sandbox.state.store
    assert sorted(d.identifier for d in store.deletions) == ["email", "phone_number"]
    assert by_phone.id not in store.profiles
    assert world.klaviyo_profiles[6].id not in store.profiles


async def test_nothing_to_erase_sends_nothing(connector: KlaviyoConnector) -> None:
    await connector.request_deletion(email=None, phone=None)
    assert connector.http.counter.count("klaviyo") == 0


async def test_deletion_is_retried_when_throttled_and_reports_persistent_throttling(
    sandbox: Sandbox, make_connector: MakeConnector
) -> None:
    connector = await make_connector(sandbox, http={"max_retries": 1})
    sandbox.faults.add(Fault("request_profile_deletion", FaultMode.STATUS_429, retry_after=0))
    with pytest.raises(UpstreamRateLimited):
        await connector.request_deletion(email="person0@example.com", phone=None)
    assert connector.http.counter.count("klaviyo", "request_profile_deletion") == 2
    sandbox.faults.clear()
    await connector.request_deletion(email="person0@example.com", phone=None)
    assert len(sandbox.state.store.deletions) == 1
