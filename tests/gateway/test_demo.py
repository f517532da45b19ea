"""The embedded demo's settings: what makes the fixed-date dataset behave like today's."""

from __future__ import annotations

from datetime import timedelta

from connectors.klaviyo.connector import KlaviyoConnector
from connectors.metrics import RequestCounter
from connectors.records import Source
from gateway.demo import demo_settings
from gateway.runtime import build_connectors
from sandboxes.demo import generate
from tests.support import make_settings

URLS = {vendor: "http://127.0.0.1:1" for vendor in ("shopify", "square", "klaviyo")}


def test_engagement_reaches_back_to_the_datasets_last_90_days_whenever_the_demo_runs() -> None:
    """The dataset's events end at its fixed ``now``; Klaviyo's look-back runs from the wall
    clock, so the demo widens it by the days since, or opens and clicks would fade away."""
    world = generate(people=40, seed=7)
    base = make_settings()
    on_the_day = demo_settings(base, world, URLS, "http://x/webhooks", today=world.now)
    later = demo_settings(
        base, world, URLS, "http://x/webhooks", today=world.now + timedelta(days=400)
    )
    assert on_the_day.vendor("klaviyo").engagement_days == 91
    assert later.vendor("klaviyo").engagement_days == 491

    klaviyo = build_connectors(later, RequestCounter()).get(Source("klaviyo"))
    assert isinstance(klaviyo, KlaviyoConnector)
    assert klaviyo.events.settings.lookback == timedelta(days=491)
    default = build_connectors(make_settings(klaviyo={"api_key": "pk_x"}), RequestCounter()).get(
        Source("klaviyo")
    )
    assert isinstance(default, KlaviyoConnector)
    assert default.events.settings.lookback == timedelta(days=90)
