"""Building the unified profile from hand-made source records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from connectors.records import (
    Address,
    Channel,
    Consent,
    ConsentState,
    CustomerRecord,
    Engagement,
    LineItem,
    MarketingProfile,
    Money,
    OrderRecord,
    Source,
)
from resolvers.customers.profile import (
    SourceStatus,
    UnifiedProfile,
    body_locations,
    build_profile,
    from_body,
    to_body,
)
from resolvers.identity.placeholders import Placeholders

T0 = datetime(2026, 1, 1, tzinfo=UTC)
#: ``sample()`` with an address and source statuses, as the hand-written body code before
#: pydantic's stored it (2026-11): profiles cached then must still load.
STORED_BEFORE = Path(__file__).parent / "data" / "profile_body_2026-11.json"


def order(
    source: Source,
    oid: str,
    channel: Channel,
    day: int,
    total: str,
    refunded: str | None = None,
    loc: str | None = None,
) -> OrderRecord:
    return OrderRecord(
        source=source,
        id=oid,
        channel=channel,
        created_at=T0.replace(day=day),
        total=Money.of(total, "USD"),
        refunded=Money.of(refunded, "USD") if refunded else None,
        location_id=loc,
        line_items=(LineItem("TEE-1", "Tee", 1, Money.of(total, "USD")),),
    )


def sample():  # type: ignore[no-untyped-def]
    customers = [
        CustomerRecord(
            Source("square"),
            "SQ1",
            "JANE",
            "DOE",
            ("JANE@EXAMPLE.COM", "none@none.com"),
            ("(212) 555-0134",),
            email_consent=Consent(ConsentState.SUBSCRIBED, True, T0),
        ),
        CustomerRecord(
            Source("shopify"),
            "gid://shopify/Customer/1",
            "Jane",
            "Doe",
            ("jane@example.com",),
            ("+12125550134",),
        ),
    ]
    marketing = [
        MarketingProfile(
            Source("klaviyo"),
            "01K",
            email="jane@example.com",
            email_consent=Consent(ConsentState.UNSUBSCRIBED, False, T0.replace(month=6)),
        )
    ]
    orders = [
        order(Source("shopify"), "o1", Channel.ONLINE, 3, "100.00", refunded="30.00"),
        order(Source("square"), "s1", Channel.IN_STORE, 5, "50.00", loc="square:LA"),
        order(Source("square"), "s2", Channel.IN_STORE, 7, "20.00", loc="shopify:9"),
        order(Source("square"), "s3", Channel.IN_STORE, 9, "10.00", loc="shopify:9"),
        order(Source("square"), "s3", Channel.IN_STORE, 9, "10.00", loc="shopify:9"),  # duplicate
    ]
    engagement = [
        Engagement("01K", last_opened_at=T0.replace(day=20), last_event_at=T0.replace(day=21))
    ]
    return build_profile(
        "cus_1",
        customers=customers,
        orders=orders,
        marketing=marketing,
        engagement=engagement,
        refreshed_at=T0.replace(month=7),
        placeholder=Placeholders(),
    )


def test_contact_data_is_normalised_deduplicated_and_free_of_placeholders() -> None:
    p = sample()
    assert p.first_name == "Jane"
    assert p.last_name == "Doe"
    assert p.emails == ["jane@example.com"]
    assert p.phones == ["+12125550134"]
    assert p.display_name == "Jane Doe"
    assert ("shopify", "gid://shopify/Customer/1") in [(s.value, i) for s, i in p.identities]


def test_stats_per_channel_net_of_refunds() -> None:
    p = sample()
    assert p.online.order_count == 1
    assert p.online.spend == Decimal("70.00")
    assert p.in_store.order_count == 3
    assert p.in_store.spend == Decimal("80.00")
    assert p.lifetime_value == Decimal("150.00")
    assert p.is_omnichannel
    assert p.favourite_location_id == "shopify:9"
    assert p.first_order_at == T0.replace(day=3)
    assert p.last_order_at == T0.replace(day=9)
    assert [o.id for o in p.orders] == ["s3", "s2", "s1", "o1"]


def test_latest_consent_wins() -> None:
    p = sample()
    assert p.email_consent.state is ConsentState.UNSUBSCRIBED
    assert p.email_consent.source is Source("klaviyo")
    assert not p.email_consent.can_receive


def test_engagement_and_round_trip_through_the_store_body() -> None:
    p = sample()
    assert p.last_opened_at == T0.replace(day=20)
    body = to_body(p)
    assert isinstance(body["lifetime_value"], str)
    again = from_body(body)
    assert to_body(again) == body
    assert again.orders[0].refund_state == p.orders[0].refund_state
    assert again.lookup_names() == ["doe", "jane", "jane doe"]


def stored_sample() -> UnifiedProfile:
    """The profile ``STORED_BEFORE`` holds."""
    p = sample()
    p.addresses = [Address("1 Main St", None, "New York", "NY", "10001", "US")]
    p.sources = [
        SourceStatus(Source("shopify"), True),
        SourceStatus(Source("square"), False, "UPSTREAM_TIMEOUT"),
    ]
    return p


def test_the_body_holds_plain_json_values() -> None:
    body = to_body(stored_sample())
    assert json.loads(json.dumps(body)) == body
    assert body["identities"][1] == ["shopify", "gid://shopify/Customer/1"]
    assert body["online"] == {"order_count": 1, "spend": "70.00"}
    assert body["orders"][0]["line_items"][0]["unit_price"] == {
        "amount": "10.00",
        "currency": "USD",
    }
    assert body["email_consent"]["state"] == "unsubscribed"
    assert datetime.fromisoformat(body["refreshed_at"]) == T0.replace(month=7)


def test_a_body_stored_by_the_previous_code_loads_as_the_same_profile() -> None:
    stored = json.loads(STORED_BEFORE.read_text())
    assert stored["refreshed_at"] == "2026-07-01T00:00:00+00:00"  # its datetimes' format
    loaded = from_body(stored)
    assert loaded == stored_sample()
    assert to_body(loaded) == to_body(stored_sample())
    assert loaded.orders[0].line_items[0].unit_price == Money.of("10.00", "USD")
    assert loaded.identities[0] == (Source("klaviyo"), "01K")


def test_a_body_older_than_a_field_gets_its_default_and_locations_from_its_orders() -> None:
    stored = json.loads(STORED_BEFORE.read_text())
    for name in ("locations", "sources", "last_clicked_at", "favourite_location_id"):
        del stored[name]
    loaded = from_body(stored)
    assert loaded.locations == body_locations(stored) == ["shopify:9", "square:LA"]
    assert loaded.sources == []
    assert loaded.last_clicked_at is None
    assert loaded.favourite_location_id is None
    assert "locations" not in stored  # the caller's body is left as it was
