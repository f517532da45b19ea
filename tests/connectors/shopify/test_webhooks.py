"""Verifying and parsing Shopify webhook deliveries (no gateway involved)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.records import (
    Channel,
    ConsentState,
    CustomerChanged,
    InventoryChanged,
    LocationChanged,
    LocationKind,
    LocationRecord,
    OrderChanged,
    PrivacyRequest,
    PrivacyRequestKind,
    RefundCreated,
    Source,
)
from connectors.shopify.webhooks import ShopifyWebhooks
from connectors.webhooks import WebhookParseError
from sandboxes.base.webhooks import sign_shopify

SECRET = "hush"
ITEM = 271878346596884015
LOCATION = 53716844710


def headers(topic: str, body: bytes, **extra: str) -> dict[str, str]:
    base = {
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": sign_shopify(SECRET, body),
        "x-shopify-event-id": "evt-1",
        "x-shopify-webhook-id": "wh-1",
        "x-shopify-triggered-at": "2026-09-03T12:44:10Z",
    }
    base.update(extra)
    return base


def parse(topic: str, payload: dict[str, Any], endpoint: ShopifyWebhooks | None = None) -> list:
    body = json.dumps(payload).encode()
    endpoint = endpoint or ShopifyWebhooks(SECRET)
    return endpoint.parse(headers=headers(topic, body), body=body)


# --- verification -------------------------------------------------------------------------


def test_a_correct_signature_verifies() -> None:
    body = b'{"id": 1}'
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    endpoint = ShopifyWebhooks(SECRET)
    assert endpoint.verify(url="", headers={"x-shopify-hmac-sha256": signature.decode()}, body=body)


@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing
        "",  # empty
        sign_shopify("another-secret", b'{"id": 1}'),  # forged
        sign_shopify(SECRET, b'{"id": 2}'),  # body tampered after signing
        "not base64!",
    ],
)
def test_bad_signatures_are_rejected(signature: str | None) -> None:
    sent = {} if signature is None else {"x-shopify-hmac-sha256": signature}
    assert not ShopifyWebhooks(SECRET).verify(url="", headers=sent, body=b'{"id": 1}')


def test_a_secret_is_required() -> None:
    with pytest.raises(ValueError, match="secret"):
        ShopifyWebhooks("")


# --- parsing --------------------------------------------------------------------------------


CUSTOMER = {
    "id": 706405506930370084,
    "email": "Bob@Example.com",
    "first_name": "Bob",
    "last_name": "Norman",
    "phone": "+16136120707",
    "created_at": "2026-09-01T08:00:00-04:00",
    "updated_at": "2026-09-03T08:44:10-04:00",
    "note": None,
    "email_marketing_consent": {
        "state": "subscribed",
        "opt_in_level": "confirmed_opt_in",
        "consent_updated_at": "2026-09-02T10:00:00-04:00",
    },
    "sms_marketing_consent": {
        "state": "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": None,
        "consent_collected_from": "OTHER",
    },
    "default_address": {
        "address1": "1 Main St",
        "city": "Boston",
        "province_code": "MA",
        "zip": "02116",
        "country_code": "US",
    },
    "admin_graphql_api_id": "gid://shopify/Customer/706405506930370084",
}


def test_customer_update_carries_the_record_with_the_same_id_as_reads() -> None:
    (event,) = parse("customers/update", CUSTOMER)
    assert isinstance(event, CustomerChanged)
    assert event.event_id == "evt-1"
    assert event.customer_id == "gid://shopify/Customer/706405506930370084"
    record = event.customer
    assert record is not None
    assert record.emails == ("Bob@Example.com",)  # raw: identity resolution normalises
    assert record.email_consent is not None
    assert record.email_consent.state is ConsentState.SUBSCRIBED
    assert record.sms_consent is not None
    assert record.sms_consent.state is ConsentState.NEVER_SUBSCRIBED
    assert record.addresses[0].region == "MA"
    assert record.updated_at == datetime(2026, 9, 3, 12, 44, 10, tzinfo=UTC)
    assert event.occurred_at == datetime(2026, 9, 3, 12, 44, 10, tzinfo=UTC)


def test_customer_delete() -> None:
    (event,) = parse("customers/delete", {"id": 7, "phone": None, "addresses": []})
    assert isinstance(event, CustomerChanged)
    assert event.deleted
    assert event.customer_id == "gid://shopify/Customer/7"


ORDER = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "name": "#9999",
    "email": "jon@example.com",
    "created_at": "2026-09-03T08:44:10-04:00",
    "updated_at": "2026-09-03T08:44:10-04:00",
    "currency": "USD",
    "source_name": "pos",
    "location_id": LOCATION,
    "total_price": "106.25",
    "customer": {"id": 115310627314723954, "email": "jon@example.com"},
    "line_items": [
        {"sku": "TEE-ORG-BLK-M", "title": "Organic Cotton Tee", "quantity": 2,
         "current_quantity": 1, "price": "28.00"},
        {"sku": None, "name": "Gift wrap", "quantity": 1, "price": "5.00"},
    ],
    "refunds": [
        {"transactions": [
            {"kind": "refund", "status": "success", "amount": "29.75", "currency": "USD"},
            {"kind": "refund", "status": "failure", "amount": "99.00", "currency": "USD"},
        ]}
    ],
}  # fmt: skip


def test_pos_order_is_in_store_at_its_location_with_refunds() -> None:
    (event,) = parse("orders/create", ORDER)
    assert isinstance(event, OrderChanged)
    order = event.order
    assert order is not None
    assert event.order_id == order.id == "gid://shopify/Order/820982911946154508"
    assert event.customer_id == "gid://shopify/Customer/115310627314723954"
    assert order.channel is Channel.IN_STORE
    assert order.location_id == f"shopify:{LOCATION}"
    assert order.total.amount == Decimal("106.25")
    assert order.refunded is not None
    assert order.refunded.amount == Decimal("29.75")
    assert [(li.sku, li.quantity, li.refunded_quantity) for li in order.line_items] == [
        ("TEE-ORG-BLK-M", 2, 1),
        (None, 1, 0),
    ]


def test_web_order_is_online_without_location() -> None:
    web = {**ORDER, "source_name": "web", "location_id": None, "refunds": []}
    (event,) = parse("orders/updated", web)
    assert isinstance(event, OrderChanged)
    assert event.order is not None
    assert event.order.channel is Channel.ONLINE
    assert event.order.location_id is None
    assert event.order.refunded is None


@pytest.mark.parametrize(
    ("status", "paid"),
    [
        ("paid", True),
        ("partially_refunded", True),
        ("refunded", True),
        ("pending", False),
        ("authorized", False),
        ("partially_paid", False),
        ("voided", False),
        (None, True),
    ],
)
def test_an_order_is_paid_by_its_financial_status(status: str | None, paid: bool) -> None:
    (event,) = parse("orders/updated", {**ORDER, "financial_status": status})
    assert isinstance(event, OrderChanged)
    assert event.order is not None
    assert event.order.paid is paid


def test_refund_created() -> None:
    body = {
        "id": 929361464,
        "order_id": 450789469,
        "created_at": "2026-09-03T08:44:10-04:00",
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "41.94", "currency": "USD"}
        ],
        "refund_line_items": [],
    }
    (event,) = parse("refunds/create", body)
    assert isinstance(event, RefundCreated)
    assert event.order_id == "gid://shopify/Order/450789469"
    assert event.refund_id == "gid://shopify/Refund/929361464"
    assert event.amount is not None
    assert event.amount.amount == Decimal("41.94")


INVENTORY = {
    "inventory_item_id": ITEM,
    "location_id": LOCATION,
    "available": 12,
    "updated_at": "2026-09-03T08:44:10-04:00",
    "admin_graphql_api_id": f"gid://shopify/InventoryLevel/87892394150?inventory_item_id={ITEM}",
}


def test_inventory_update_resolves_the_sku_through_the_callback() -> None:
    skus = {f"gid://shopify/InventoryItem/{ITEM}": "TEE-ORG-BLK-M"}
    endpoint = ShopifyWebhooks(SECRET, resolve_sku=skus.get)
    (event,) = parse("inventory_levels/update", INVENTORY, endpoint)
    assert isinstance(event, InventoryChanged)
    assert event.level is not None
    assert event.level.sku == "TEE-ORG-BLK-M"
    assert event.level.location_id == f"shopify:{LOCATION}"
    assert event.level.quantities == {"available": 12}
    assert event.level.updated_at == datetime(2026, 9, 3, 12, 44, 10, tzinfo=UTC)
    assert event.level.source is Source("shopify")


def test_inventory_update_for_an_unknown_item_keeps_the_references() -> None:
    (event,) = parse("inventory_levels/update", INVENTORY)
    assert isinstance(event, InventoryChanged)
    assert event.level is None
    assert event.item_ref == f"gid://shopify/InventoryItem/{ITEM}"
    assert event.location_ref == f"shopify:{LOCATION}"


def test_location_update_merges_into_the_last_read_location() -> None:
    known = LocationRecord(
        source=Source("shopify"),
        id=f"shopify:{LOCATION}",
        name="Old name",
        kind=LocationKind.STORE,
        latitude=42.3,
        longitude=-71.1,
        pickup_enabled=True,
    )
    body = {"id": LOCATION, "name": "Back Bay", "city": "Boston", "active": False}
    endpoint = ShopifyWebhooks(SECRET, resolve_location={known.id: known}.get)
    (event,) = parse("locations/update", body, endpoint)
    assert isinstance(event, LocationChanged)
    assert event.location is not None
    assert (event.location.name, event.location.active) == ("Back Bay", False)
    assert event.location.pickup_enabled
    assert event.location.latitude == 42.3
    (unknown,) = parse("locations/update", body)
    assert isinstance(unknown, LocationChanged)
    assert unknown.location is None
    assert unknown.location_id == f"shopify:{LOCATION}"


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("customers/data_request", PrivacyRequestKind.DATA_REQUEST),
        ("customers/redact", PrivacyRequestKind.REDACT_CUSTOMER),
        ("shop/redact", PrivacyRequestKind.REDACT_SHOP),
    ],
)
def test_mandatory_privacy_topics(topic: str, kind: PrivacyRequestKind) -> None:
    body: dict[str, Any] = {"shop_id": 954889, "shop_domain": "acme.myshopify.com"}
    if topic != "shop/redact":
        body["customer"] = {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"}
    if topic == "customers/redact":
        body["orders_to_redact"] = [299938]
    (event,) = parse(topic, body)
    assert isinstance(event, PrivacyRequest)
    assert event.kind is kind
    if topic == "shop/redact":
        assert event.customer_id is None
    else:
        assert event.customer_id == "gid://shopify/Customer/191167"
        assert event.email == "john@example.com"


def test_event_id_falls_back_to_webhook_id_then_to_a_digest() -> None:
    body = json.dumps(CUSTOMER).encode()
    endpoint = ShopifyWebhooks(SECRET)
    sent = headers("customers/update", body)
    del sent["x-shopify-event-id"]
    (event,) = endpoint.parse(headers=sent, body=body)
    assert event.event_id == "wh-1"
    del sent["x-shopify-webhook-id"]
    (first,) = endpoint.parse(headers=sent, body=body)
    (again,) = endpoint.parse(headers=sent, body=body)
    assert first.event_id == again.event_id
    assert first.event_id.startswith("sha256:")


def test_unknown_topics_are_acknowledged_without_events() -> None:
    assert parse("products/update", {"id": 1}) == []


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("customers/update", b"not json"),
        ("customers/update", b"[1, 2]"),
        ("inventory_levels/update", b'{"location_id": 1}'),
        ("orders/create", b'{"id": 1}'),
    ],
)
def test_malformed_bodies_raise_parse_errors(topic: str, body: bytes) -> None:
    with pytest.raises(WebhookParseError):
        ShopifyWebhooks(SECRET).parse(headers=headers(topic, body), body=body)


def test_a_delivery_without_topic_is_a_parse_error() -> None:
    with pytest.raises(WebhookParseError, match="Topic"):
        ShopifyWebhooks(SECRET).parse(headers={}, body=b"{}")


# --- each topic's payload shape ---------------------------------------------------------------


REDACT = {
    "shop_id": 954889,
    "shop_domain": "acme.myshopify.com",
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "orders_to_redact": [299938, 280263],
}
DELETED = {
    "id": 706405506930370084,
    "phone": None,
    "addresses": [],
    "tax_exemptions": [],
    "email_marketing_consent": None,
    "sms_marketing_consent": None,
    "admin_graphql_api_id": "gid://shopify/Customer/706405506930370084",
}
REFUND = {
    "id": 929361464,
    "order_id": 450789469,
    "created_at": "2026-09-03T08:44:10-04:00",
    "transactions": [],
    "refund_line_items": [],
}
LOCATION_BODY = {"id": LOCATION, "name": "Back Bay", "city": "Boston", "active": True}
BODIES: dict[str, dict[str, Any]] = {
    "customers/update": CUSTOMER,
    "customers/delete": DELETED,
    "orders/create": ORDER,
    "refunds/create": REFUND,
    "inventory_levels/update": INVENTORY,
    "locations/update": LOCATION_BODY,
    "customers/redact": REDACT,
}
#: Which bodies may pass for another topic's: an order is also an order update, and a
#: location or a deletion notice (an id and little else) may legitimately look alike.
COMPATIBLE = {
    ("orders/create", "orders/updated"),
    ("customers/update", "customers/create"),
}


@pytest.mark.parametrize("topic", sorted(BODIES))
def test_each_topic_accepts_its_own_payload(topic: str) -> None:
    assert parse(topic, BODIES[topic])


@pytest.mark.parametrize(
    ("sent_as", "body_of"),
    [
        (sent_as, body_of)
        for sent_as in (
            "customers/redact",
            "customers/delete",
            "customers/update",
            "orders/create",
            "refunds/create",
            "inventory_levels/update",
            "customers/data_request",
        )
        for body_of in BODIES
        if body_of != sent_as and (body_of, sent_as) not in COMPATIBLE
    ],
)
def test_a_body_relabelled_as_another_topic_is_refused(sent_as: str, body_of: str) -> None:
    """The topic is an unsigned header; only a body of the topic's own shape is acted on."""
    with pytest.raises(WebhookParseError, match=sent_as):
        parse(sent_as, BODIES[body_of])


def test_a_customer_record_is_not_a_deletion_notice() -> None:
    """``customers/delete`` carries an id and emptied fields; a live customer record under
    that topic (a replayed ``customers/update``) deletes nobody."""
    with pytest.raises(WebhookParseError, match="customers/delete"):
        parse("customers/delete", CUSTOMER)


@pytest.mark.parametrize(
    ("topic", "payload", "field"),
    [
        ("customers/update", {**CUSTOMER, "email": 123}, "email"),
        ("customers/update", {**CUSTOMER, "id": "not-a-number"}, "id"),
        ("orders/create", {**ORDER, "line_items": "none"}, "line_items"),
        ("orders/create", {**ORDER, "total_price": {"amount": 1}}, "total_price"),
        ("customers/redact", {**REDACT, "customer": {"email": "john@example.com"}}, "id"),
        ("customers/redact", {**REDACT, "orders_to_redact": None}, "orders_to_redact"),
        ("inventory_levels/update", {**INVENTORY, "available": "many"}, "available"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_parse_error_naming_it(
    topic: str, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(WebhookParseError, match=field) as raised:
        parse(topic, payload)
    assert "john@example.com" not in str(raised.value)  # reasons carry no values


def test_vendors_may_add_fields() -> None:
    (event,) = parse("customers/update", {**CUSTOMER, "brand_new_field": {"x": 1}})
    assert isinstance(event, CustomerChanged)


def test_identify_names_topic_and_event_id_without_parsing() -> None:
    endpoint = ShopifyWebhooks(SECRET)
    body = b"not json at all"
    found = endpoint.identify(headers=headers("Customers/Update", body), body=body)
    assert (found.topic, found.event_id) == ("customers/update", "evt-1")
