"""Engagement (last open, last click, last event) for many profiles per call."""

from __future__ import annotations

import math
from datetime import timedelta

from connectors.klaviyo.connector import KlaviyoConnector
from connectors.klaviyo.engagement import EVENTS_PAGE_SIZE, EngagementSettings
from connectors.metrics import RequestCounter
from sandboxes.demo.world import DemoWorld
from tests.connectors.klaviyo.conftest import MakeConnector, MakeSandbox, Sandbox
from tests.connectors.klaviyo.world import klaviyo_world, truth

LOOKBACK = EngagementSettings().lookback


async def test_engagement_matches_the_events_of_each_profile(
    connector: KlaviyoConnector, world: DemoWorld
) -> None:
    ids = [p.id for p in world.klaviyo_profiles]
    result = await connector.engagement(ids)
    since = world.now - LOOKBACK
    assert set(result) == set(ids)
    opened = clicked = silent = 0
    for pid in ids:
        expected = truth(world, pid, since=since)
        got = result[pid]
        assert got.profile_id == pid
        assert (got.last_opened_at, got.last_clicked_at, got.last_event_at) == (
            expected.last_opened,
            expected.last_clicked,
            expected.last_event,
        ), pid
        opened += got.last_opened_at is not None
        clicked += got.last_clicked_at is not None
        silent += got.last_event_at is None
    # The world has all three kinds of people, so the comparison above means something.
    assert opened > 50
    assert clicked > 50
    assert silent >= 15


async def test_marketing_data_for_100_customers_is_one_profile_call_and_bounded_event_calls(
    make_sandbox: MakeSandbox, make_connector: MakeConnector
) -> None:
    """The issue's bar: 1 profile call plus event calls that do not grow with the customers."""
    world = klaviyo_world(400, events_per_profile=8)  # ~2,900 events, several pages
    sandbox = await make_sandbox(world)
    since = world.now - LOOKBACK
    in_window = sum(1 for e in world.klaviyo_events if e.time > since)
    assert in_window > EVENTS_PAGE_SIZE
    # Three streams (opened, clicked, any event), each at most the pages of the window.
    bound = 3 * math.ceil(in_window / EVENTS_PAGE_SIZE)
    event_calls: dict[int, int] = {}
    for customers in (10, 100, 300):
        counter = RequestCounter()
        connector = await make_connector(sandbox, counter=counter)
        emails = [p.email or "" for p in world.klaviyo_profiles[:customers]]
        profiles = await connector.profiles(emails=emails)
        engagement = await connector.engagement([p.id for p in profiles])
        assert len(engagement) == customers
        event_calls[customers] = counter.count("klaviyo", "get_events")
        assert counter.count("klaviyo", "get_profiles") == math.ceil(customers / 100)
        assert counter.count("klaviyo", "get_metrics") == 1
        assert event_calls[customers] <= bound
    print(f"event calls by customers asked: {event_calls} (bound {bound}, {in_window} events)")
    assert event_calls[100] < 100 // 4
    assert event_calls[300] <= bound
    # Never a per-profile event query: profile_id never appears in an events filter.
    assert sandbox.filters("get_events")
    assert not any("profile_id" in f for f in sandbox.filters("get_events"))


async def test_a_second_batch_within_the_ttl_is_answered_from_what_was_read(
    sandbox: Sandbox, connector: KlaviyoConnector, world: DemoWorld
) -> None:
    ids = [p.id for p in world.klaviyo_profiles]
    first = await connector.engagement(ids[:50])
    calls = connector.http.counter.count("klaviyo")
    again = await connector.engagement(ids[:50])
    more = await connector.engagement(ids[50:])
    assert again == first
    assert len(more) == 100
    assert connector.http.counter.count("klaviyo") == calls


async def test_profiles_without_events_are_answered_once_the_window_is_read(
    connector: KlaviyoConnector, world: DemoWorld
) -> None:
    silent = world.klaviyo_profiles[-1].id
    result = await connector.engagement([silent])
    assert result[silent].last_event_at is None
    assert result[silent].last_opened_at is None
    # The whole window was one page per stream: 3 event calls, then nothing more to read.
    assert connector.http.counter.count("klaviyo", "get_events") == 3


async def test_a_new_open_shows_up_after_the_ttl(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, engagement=EngagementSettings(ttl=0.0))
    silent = world.klaviyo_profiles[-1]
    before = await connector.engagement([silent.id])
    assert before[silent.id].last_opened_at is None
    opened_at = world.now - timedelta(hours=1)
    store = sandbox.state.store
    store.add_event(store.profiles[silent.id], store.metric_named("Opened Email"), opened_at)
    after = await connector.engagement([silent.id])
    assert after[silent.id].last_opened_at == opened_at
    assert after[silent.id].last_event_at == opened_at


async def test_page_cap_bounds_calls_when_profiles_never_appear(
    make_sandbox: MakeSandbox, make_connector: MakeConnector
) -> None:
    world = klaviyo_world(400, events_per_profile=8)
    sandbox = await make_sandbox(world)
    connector = await make_connector(sandbox, engagement=EngagementSettings(max_pages=2))
    since = world.now - LOOKBACK
    in_window = sum(1 for e in world.klaviyo_events if e.time > since)
    assert in_window > 2 * EVENTS_PAGE_SIZE
    silent = world.klaviyo_profiles[-1].id
    result = await connector.engagement([silent])
    assert result[silent].last_event_at is None
    # Opened and clicked fit one page each; reading every event would take more than two
    # pages, and the cap stops that stream at two.
    assert connector.http.counter.count("klaviyo", "get_events") == 1 + 1 + 2


async def test_an_account_without_email_metrics_reads_only_the_any_stream(
    make_sandbox: MakeSandbox, make_connector: MakeConnector
) -> None:
    world = klaviyo_world(20)
    world.klaviyo_metrics = [m for m in world.klaviyo_metrics if m.name == "Placed Order"]
    keep = {m.id for m in world.klaviyo_metrics}
    world.klaviyo_events = [e for e in world.klaviyo_events if e.metric_id in keep]
    sandbox = await make_sandbox(world)
    connector = await make_connector(sandbox)
    ids = [p.id for p in world.klaviyo_profiles]
    result = await connector.engagement(ids)
    assert all(e.last_opened_at is None and e.last_clicked_at is None for e in result.values())
    assert any(e.last_event_at is not None for e in result.values())
    assert connector.http.counter.count("klaviyo", "get_events") == 1
