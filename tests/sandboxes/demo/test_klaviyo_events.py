"""Klaviyo metrics and events: what the Events API serves and the 360 reads engagement from."""

from __future__ import annotations

from collections import Counter

from connectors.records import ConsentState
from sandboxes.demo import DEMO_NOW, DemoWorld


def test_metrics_and_campaigns(world: DemoWorld) -> None:
    names = {m.name for m in world.klaviyo_metrics}
    assert {"Received Email", "Opened Email", "Clicked Email", "Placed Order"} <= names
    assert len({m.id for m in world.klaviyo_metrics}) == len(world.klaviyo_metrics)
    sends = [c.send_time for c in world.klaviyo_campaigns]
    assert sends == sorted(sends)
    assert all(s.weekday() == 1 and s < DEMO_NOW for s in sends)  # Tuesdays


def test_events_reference_profiles_and_metrics(world: DemoWorld) -> None:
    counts = Counter(world.klaviyo_metrics_by_id[e.metric_id].name for e in world.klaviyo_events)
    assert counts["Received Email"] > counts["Opened Email"] > counts["Clicked Email"] > 0
    assert counts["Placed Order"] > 0
    assert len({e.id for e in world.klaviyo_events}) == len(world.klaviyo_events)
    times = [e.time for e in world.klaviyo_events]
    assert times == sorted(times)
    assert times[-1] <= DEMO_NOW
    for event in world.klaviyo_events:
        profile = world.klaviyo_profiles_by_id[event.profile_id]
        assert event.person_id == profile.person_id


def test_placed_order_events_mirror_shopify_orders(world: DemoWorld) -> None:
    placed = world.klaviyo_metrics_by_name["Placed Order"].id
    seen = 0
    for event in world.klaviyo_events:
        if event.metric_id != placed:
            continue
        order = world.shopify_orders_by_id[int(str(event.properties["$event_id"]))]
        profile = world.klaviyo_profiles_by_id[event.profile_id]
        assert order.email == profile.email
        assert event.value == order.total
        assert event.time == order.created_at
        assert event.properties["OrderName"] == order.name
        seen += 1
    assert seen > 0


def test_campaign_email_only_reaches_consenting_profiles(world: DemoWorld) -> None:
    received = world.klaviyo_metrics_by_name["Received Email"].id
    opened = world.klaviyo_metrics_by_name["Opened Email"].id
    for profile_id, events in world.klaviyo_events_by_profile.items():
        profile = world.klaviyo_profiles_by_id[profile_id]
        consent = profile.email_consent
        got = {e.properties.get("$message") for e in events if e.metric_id == received}
        for event in events:
            if event.metric_id == received:
                assert consent.state is not ConsentState.NEVER_SUBSCRIBED
                assert consent.updated_at is not None
                if consent.state is ConsentState.UNSUBSCRIBED:
                    assert event.time < consent.updated_at
            if event.metric_id == opened:
                # Nobody opens an email they never received.
                assert event.properties["$message"] in got
