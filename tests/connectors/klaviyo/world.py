"""A small, hand-made demo world holding Klaviyo records only.

The shared generator builds whole retailers; these tests need exact control over how many
profiles exist, who opened or clicked what and when, so they build the Klaviyo part of a
``DemoWorld`` themselves (the other vendors' lists stay empty).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from connectors.records import Address, Consent, ConsentState
from sandboxes.demo.ids import IdFactory
from sandboxes.demo.world import (
    DEMO_NOW,
    DemoWorld,
    KlaviyoEvent,
    KlaviyoMetric,
    KlaviyoProfile,
    PlaceholderQuirk,
    Quirks,
    StockScenarios,
)

OPENED, CLICKED, RECEIVED, PLACED = (
    "Opened Email",
    "Clicked Email",
    "Received Email",
    "Placed Order",
)


@dataclass(frozen=True, slots=True)
class Truth:
    """What the world says about one profile's engagement, to compare the connector with."""

    last_opened: datetime | None
    last_clicked: datetime | None
    last_event: datetime | None


def empty_quirks() -> Quirks:
    return Quirks(
        upper_case_email=(),
        local_phone=(),
        guest_checkout=(),
        two_emails=(),
        shared_phone=(),
        subscriber_only=(),
        pos_duplicates=(),
        placeholders=PlaceholderQuirk((), (), {}, {}, ()),
        stock=StockScenarios(("", ""), ("", ""), ("", "")),
    )


def klaviyo_world(
    profiles: int = 150, *, seed: int = 7, events_per_profile: int = 6, now: datetime = DEMO_NOW
) -> DemoWorld:
    """``profiles`` profiles (``person{i}@example.com``, every third with a phone), four metrics
    and events over the last 120 days. Profile 0 is fully subscribed with SMS consent; profile
    1 is suppressed (hard bounce); the last tenth has no events at all."""
    rng = random.Random(seed)
    ids = IdFactory(seed)
    metrics = [
        KlaviyoMetric(ids.klaviyo_metric(), name, integration)
        for name, integration in (
            (OPENED, "Klaviyo"),
            (CLICKED, "Klaviyo"),
            (RECEIVED, "Klaviyo"),
            (PLACED, "Shopify"),
        )
    ]
    by_name = {m.name: m for m in metrics}
    people: list[KlaviyoProfile] = []
    events: list[KlaviyoEvent] = []
    silent_from = profiles - profiles // 10
    for i in range(profiles):
        created = now - timedelta(days=400 + i)
        phone = f"+1212555{i:04d}" if i % 3 == 0 else None
        subscribed = i % 2 == 0
        email_consent = Consent(
            state=ConsentState.SUBSCRIBED if subscribed else ConsentState.NEVER_SUBSCRIBED,
            can_receive=subscribed or i == 1,
            updated_at=created + timedelta(days=1) if subscribed else None,
            method="FORM:footer-signup" if subscribed else None,
            suppressed=i == 1,
        )
        if i == 1:
            email_consent = Consent(
                state=ConsentState.UNSUBSCRIBED,
                can_receive=False,
                updated_at=created + timedelta(days=3),
                method="PREFERENCE_PAGE",
                suppressed=True,
            )
        sms_consent = (
            Consent(
                state=ConsentState.SUBSCRIBED if i % 2 == 0 else ConsentState.UNSUBSCRIBED,
                can_receive=i % 2 == 0,
                updated_at=created + timedelta(days=2),
                method="API",
            )
            if phone
            else None
        )
        profile = KlaviyoProfile(
            id=ids.klaviyo_ulid(created),
            person_id=f"P{i:05d}",
            email=f"person{i}@example.com",
            phone_number=phone,
            first_name=f"First{i}",
            last_name=f"Last{i}",
            address=Address(line1=f"{i} Main St", city="New York", region="NY", country_code="US"),
            email_consent=email_consent,
            sms_consent=sms_consent,
            created=created,
            updated=created + timedelta(days=5),
            properties={"source": "demo"},
        )
        people.append(profile)
        if i >= silent_from:
            continue
        for _ in range(events_per_profile):
            name = rng.choice((OPENED, CLICKED, RECEIVED, RECEIVED, PLACED))
            at = now - timedelta(minutes=rng.randrange(1, 120 * 24 * 60))
            events.append(
                KlaviyoEvent(
                    id=ids.klaviyo_event(),
                    profile_id=profile.id,
                    metric_id=by_name[name].id,
                    time=at,
                    value=Decimal("42.50") if name == PLACED else None,
                    properties={"Subject": "Autumn drop"} if name != PLACED else {},
                    person_id=profile.person_id,
                )
            )
    return DemoWorld(
        seed=seed,
        now=now,
        retailer_name="Test Retail",
        retailer_domain="example.com",
        currency="USD",
        locations=[],
        products=[],
        stock=[],
        people=[],
        shopify_customers=[],
        square_customers=[],
        klaviyo_profiles=people,
        klaviyo_metrics=metrics,
        klaviyo_campaigns=[],
        shopify_orders=[],
        square_orders=[],
        klaviyo_events=events,
        quirks=empty_quirks(),
        ids=ids,
    )


def truth(world: DemoWorld, profile_id: str, *, since: datetime) -> Truth:
    names = {m.id: m.name for m in world.klaviyo_metrics}
    mine = [e for e in world.klaviyo_events if e.profile_id == profile_id and e.time > since]

    def latest(name: str | None) -> datetime | None:
        times = [e.time for e in mine if name is None or names[e.metric_id] == name]
        return max(times) if times else None

    return Truth(latest(OPENED), latest(CLICKED), latest(None))
