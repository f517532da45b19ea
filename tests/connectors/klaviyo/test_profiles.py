"""Reading profiles and consent from the sandbox over loopback HTTP."""

from __future__ import annotations

import pytest

from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.klaviyo.connector import KlaviyoConnector
from connectors.metrics import RequestCounter
from connectors.records import ConsentState, Source
from sandboxes.base.faults import Fault, FaultMode
from sandboxes.demo.world import DemoWorld
from sandboxes.klaviyo.query import PROFILE_FIELDS, compile_filter
from tests.connectors.klaviyo.conftest import MakeConnector, MakeSandbox, Sandbox
from tests.connectors.klaviyo.world import klaviyo_world


async def test_hundred_emails_are_one_profiles_call_with_any_and_subscriptions(
    sandbox: Sandbox, connector: KlaviyoConnector, world: DemoWorld
) -> None:
    wanted = world.klaviyo_profiles[:100]
    profiles = await connector.profiles(emails=[p.email or "" for p in wanted])
    assert {p.id for p in profiles} == {p.id for p in wanted}
    assert connector.http.counter.count("klaviyo", "get_profiles") == 1
    (sent,) = sandbox.filters("get_profiles")
    assert sent.startswith('any(email,["person0@example.com","person1@example.com"')
    # The expression the connector sent is real filter syntax matching exactly those emails.
    predicate = compile_filter(sent, PROFILE_FIELDS)
    assert predicate({"email": "person99@example.com"})
    assert not predicate({"email": "person100@example.com"})


async def test_more_than_a_page_of_emails_is_split_into_calls_of_a_hundred(
    sandbox: Sandbox, connector: KlaviyoConnector, world: DemoWorld
) -> None:
    emails = [p.email or "" for p in world.klaviyo_profiles] + ["nobody@example.com"]
    profiles = await connector.profiles(emails=emails + emails[:10])  # duplicates asked once
    assert len(profiles) == 150
    assert connector.http.counter.count("klaviyo", "get_profiles") == 2


async def test_phones_and_ids_use_their_own_filters_and_results_are_deduplicated(
    sandbox: Sandbox, connector: KlaviyoConnector, world: DemoWorld
) -> None:
    first, fourth = world.klaviyo_profiles[0], world.klaviyo_profiles[3]
    assert first.phone_number
    assert fourth.phone_number
    profiles = await connector.profiles(
        emails=[first.email or ""],
        phones=[first.phone_number, fourth.phone_number],
        ids=[fourth.id],
    )
    assert sorted(p.id for p in profiles) == sorted([first.id, fourth.id])
    assert sorted(sandbox.filters("get_profiles")) == sorted(
        [
            'any(email,["person0@example.com"])',
            f'any(phone_number,["{first.phone_number}","{fourth.phone_number}"])',
            f'any(id,["{fourth.id}"])',
        ]
    )


async def test_email_lookup_ignores_case_like_klaviyo(
    connector: KlaviyoConnector, world: DemoWorld
) -> None:
    profiles = await connector.profiles(emails=["PERSON5@Example.COM"])
    assert [p.id for p in profiles] == [world.klaviyo_profiles[5].id]


async def test_nothing_asked_means_no_call(connector: KlaviyoConnector) -> None:
    assert await connector.profiles() == []
    assert connector.http.counter.count("klaviyo") == 0


async def test_profile_fields_and_email_and_sms_consent_are_mapped(
    connector: KlaviyoConnector, world: DemoWorld
) -> None:
    source = world.klaviyo_profiles[0]
    (profile,) = await connector.profiles(ids=[source.id])
    assert profile.source is Source("klaviyo")
    assert (profile.email, profile.phone, profile.first_name, profile.last_name) == (
        "person0@example.com",
        "+12125550000",
        "First0",
        "Last0",
    )
    assert profile.created_at == source.created
    assert profile.properties == {"source": "demo"}
    email = profile.email_consent
    assert email is not None
    assert email.state is ConsentState.SUBSCRIBED
    assert email.can_receive is True
    assert email.suppressed is False
    assert email.method == "FORM:footer-signup"
    assert email.updated_at == source.email_consent.updated_at
    sms = profile.sms_consent
    assert sms is not None
    assert (sms.state, sms.can_receive, sms.method) == (ConsentState.SUBSCRIBED, True, "API")
    assert sms.updated_at == source.sms_consent.updated_at if source.sms_consent else False


async def test_suppressed_unsubscribed_and_never_subscribed_profiles(
    connector: KlaviyoConnector, world: DemoWorld
) -> None:
    suppressed, never = world.klaviyo_profiles[1], world.klaviyo_profiles[5]
    found = {p.id: p for p in await connector.profiles(ids=[suppressed.id, never.id])}
    consent = found[suppressed.id].email_consent
    assert consent is not None
    assert (consent.state, consent.can_receive, consent.suppressed) == (
        ConsentState.UNSUBSCRIBED,
        False,
        True,
    )
    assert consent.method == "PREFERENCE_PAGE"
    never_consent = found[never.id].email_consent
    assert never_consent is not None
    assert never_consent.state is ConsentState.NEVER_SUBSCRIBED
    assert never_consent.can_receive is False
    # No phone on the profile: no SMS consent at all rather than a made-up refusal.
    assert found[never.id].sms_consent is None


async def test_links_next_is_followed_until_the_last_page(
    sandbox: Sandbox, connector: KlaviyoConnector
) -> None:
    seen: list[str] = []
    async for page in connector.client.pages(
        "/api/profiles", operation="get_profiles", params={"page[size]": "20"}
    ):
        seen.extend(item["id"] for item in page["data"])
    assert len(seen) == len(set(seen)) == 150
    assert connector.http.counter.count("klaviyo", "get_profiles") == 8


async def test_missing_revision_is_a_400_the_connector_reports_as_bad_response(
    sandbox: Sandbox, make_connector: MakeConnector
) -> None:
    connector = await make_connector(sandbox, revision="")
    with pytest.raises(UpstreamBadResponse) as caught:
        await connector.profiles(emails=["person0@example.com"])
    assert caught.value.status == 400
    assert "(invalid)" in str(caught.value)
    assert caught.value.operation == "get_profiles"


async def test_wrong_key_is_an_auth_error_naming_klaviyos_code(
    sandbox: Sandbox, make_connector: MakeConnector
) -> None:
    connector = await make_connector(sandbox, api_key="pk_wrong")
    with pytest.raises(UpstreamAuthError) as caught:
        await connector.profiles(emails=["person0@example.com"])
    assert caught.value.status == 401
    assert "authentication_failed" in str(caught.value)
    assert "pk_wrong" not in str(caught.value)


async def test_429_from_klaviyo_is_retried_after_retry_after(
    sandbox: Sandbox, connector: KlaviyoConnector
) -> None:
    sandbox.faults.add(Fault("get_profiles", FaultMode.STATUS_429, retry_after=0.1, count=1))
    profiles = await connector.profiles(emails=["person0@example.com"])
    assert len(profiles) == 1
    counter = connector.http.counter
    assert counter.outcomes("klaviyo", "get_profiles") == {"429": 1, "200": 1}
    assert counter.retries("klaviyo", "get_profiles") == 1


async def test_persistent_429_surfaces_as_rate_limited(
    sandbox: Sandbox, make_connector: MakeConnector
) -> None:
    connector = await make_connector(sandbox, http={"max_retries": 1})
    sandbox.faults.add(Fault("get_profiles", FaultMode.STATUS_429, retry_after=0))
    with pytest.raises(UpstreamRateLimited):
        await connector.profiles(emails=["person0@example.com"])
    sandbox.faults.clear()


async def test_503_is_retried_and_then_reported_unavailable(
    sandbox: Sandbox, make_connector: MakeConnector
) -> None:
    counter = RequestCounter()
    connector = await make_connector(sandbox, counter=counter, http={"max_retries": 2})
    sandbox.faults.add(Fault("get_profiles", FaultMode.STATUS_503))
    with pytest.raises(UpstreamUnavailable):
        await connector.profiles(emails=["person0@example.com"])
    assert counter.count("klaviyo", "get_profiles") == 3
    sandbox.faults.clear()


async def test_malformed_body_is_a_bad_response(
    sandbox: Sandbox, connector: KlaviyoConnector
) -> None:
    sandbox.faults.add(Fault("get_profiles", FaultMode.MALFORMED, count=1))
    with pytest.raises(UpstreamBadResponse):
        await connector.profiles(emails=["person0@example.com"])


async def test_profiles_of_a_larger_world_are_paged_by_a_hundred(
    make_sandbox: MakeSandbox, make_connector: MakeConnector
) -> None:
    big = klaviyo_world(320, events_per_profile=0)
    target = await make_sandbox(big)
    connector = await make_connector(target)
    profiles = await connector.profiles(ids=[p.id for p in big.klaviyo_profiles])
    assert len(profiles) == 320
    assert connector.http.counter.count("klaviyo", "get_profiles") == 4
