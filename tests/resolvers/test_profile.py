"""Building the unified profile from hand-made source records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connectors.records import (
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
from resolvers.customers.profile import build_profile, from_body, to_body
from resolvers.identity.placeholders import Placeholders

T0 = datetime(2026, 1, 1, tzinfo=UTC)


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
            Source.SQUARE,
            "SQ1",
            "JANE",
            "DOE",
            ("JANE@EXAMPLE.COM", "none@none.com"),
            ("(212) 555-0134",),
            email_consent=Consent(ConsentState.SUBSCRIBED, True, T0),
        ),
        CustomerRecord(
            Source.SHOPIFY,
            "gid://shopify/Customer/1",
            "Jane",
            "Doe",
            ("jane@example.com",),
            ("+12125550134",),
        ),
    ]
    marketing = [
        MarketingProfile(
            Source.KLAVIYO,
            "01K",
            email="jane@example.com",
            email_consent=Consent(ConsentState.UNSUBSCRIBED, False, T0.replace(month=6)),
        )
    ]
    orders = [
        order(Source.SHOPIFY, "o1", Channel.ONLINE, 3, "100.00", refunded="30.00"),
        order(Source.SQUARE, "s1", Channel.IN_STORE, 5, "50.00", loc="square:LA"),
        order(Source.SQUARE, "s2", Channel.IN_STORE, 7, "20.00", loc="shopify:9"),
        order(Source.SQUARE, "s3", Channel.IN_STORE, 9, "10.00", loc="shopify:9"),
        order(Source.SQUARE, "s3", Channel.IN_STORE, 9, "10.00", loc="shopify:9"),  # duplicate
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
    assert p.email_consent.source is Source.KLAVIYO
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
