"""Square webhook verification and parsing, on bodies shaped like Square's (and the spec's
own examples)."""

from __future__ import annotations

import base64
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.records import (
    CustomerChanged,
    InventoryChanged,
    LocationChanged,
    OrderChanged,
    RefundCreated,
    Source,
)
from connectors.square.catalog import CatalogCache
from connectors.square.locations import LocationMap
from connectors.square.webhooks import SIGNATURE_HEADER, SquareWebhooks
from connectors.webhooks import WebhookParseError
from sandboxes.base.webhooks import sign_square

KEY = "webhook-signature-key"
URL = "https://omnigate.example.com/webhooks/square"
VARIATION = "FGQ5JJWT2PYTHF35CKZ2DSKP"
LOCATION = "YYQR03DGCTXA4"


def envelope(event_type: str, data: dict[str, Any], event_id: str = "evt-1") -> bytes:
    return json.dumps(
        {
            "merchant_id": "6SSW7HV8K2ST5",
            "type": event_type,
            "event_id": event_id,
            "created_at": "2026-11-02T18:38:45.455006797Z",
            "data": data,
        }
    ).encode()


def endpoint(**options: Any) -> SquareWebhooks:
    catalog = CatalogCache()
    catalog.learn(
        [
            {
                "type": "ITEM_VARIATION",
                "id": VARIATION,
                "item_variation_data": {"sku": "TEE-ORG-BLK-M"},
            }
        ]
    )
    return SquareWebhooks(
        KEY,
        catalog=catalog,
        locations=LocationMap({LOCATION: "shopify:53716844710"}),
        **options,
    )


def signed(body: bytes, url: str = URL, key: str = KEY) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign_square(key, url, body)}


# --- verification ---------------------------------------------------------------------------------


def test_verify_accepts_only_url_plus_body_signed_with_the_key() -> None:
    hooks = endpoint()
    body = envelope("order.updated", {"id": "o"})
    assert hooks.verify(url=URL, headers=signed(body), body=body)
    assert not hooks.verify(url=URL, headers=signed(body + b" "), body=body)
    assert not hooks.verify(url=URL, headers=signed(body, key="other"), body=body)
    assert not hooks.verify(url=URL + "?x=1", headers=signed(body), body=body)
    assert not hooks.verify(url=URL, headers={}, body=body)
    assert not hooks.verify(url=URL, headers={SIGNATURE_HEADER: "not base64!!"}, body=body)
    # Square signs url + body, not the body alone (that is Shopify's scheme).
    body_only = base64.b64encode(hmac.new(KEY.encode(), body, "sha256").digest()).decode()
    assert not hooks.verify(url=URL, headers={SIGNATURE_HEADER: body_only}, body=body)


def test_a_configured_notification_url_wins_over_the_request_url() -> None:
    hooks = endpoint(notification_url=URL)
    body = envelope("order.updated", {"id": "o"})
    assert hooks.verify(url="http://10.0.0.7:8000/webhooks/square", headers=signed(body), body=body)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="signature key"):
        SquareWebhooks("")


# --- parsing --------------------------------------------------------------------------------------


def test_inventory_count_with_known_variation_becomes_a_level() -> None:
    body = envelope(
        "inventory.count.updated",
        {
            "type": "inventory_counts",
            "id": "84e4ac73-d605-4dbd-a9e5-ffff794ddb9d",
            "object": {
                "inventory_counts": [
                    {
                        "calculated_at": "2026-11-02T18:38:45.10296Z",
                        "catalog_object_id": VARIATION,
                        "catalog_object_type": "ITEM_VARIATION",
                        "location_id": LOCATION,
                        "quantity": "10",
                        "state": "IN_STOCK",
                    },
                    {
                        "calculated_at": "2026-11-02T18:38:45.10296Z",
                        "catalog_object_id": VARIATION,
                        "catalog_object_type": "ITEM_VARIATION",
                        "location_id": LOCATION,
                        "quantity": "2",
                        "state": "WASTE",
                    },
                ]
            },
        },
        event_id="df5f3813",
    )
    (event,) = endpoint().parse(headers={}, body=body)
    assert isinstance(event, InventoryChanged)
    assert event.source is Source("square")
    assert event.event_id == f"df5f3813:{VARIATION}:{LOCATION}"
    assert event.level is not None
    assert event.level.sku == "TEE-ORG-BLK-M"
    assert event.level.location_id == "shopify:53716844710"
    assert event.level.quantities == {"available": 10, "on_hand": 10}
    assert event.level.updated_at == datetime(2026, 11, 2, 18, 38, 45, 102960, tzinfo=UTC)
    assert event.occurred_at == datetime(2026, 11, 2, 18, 38, 45, 455006, tzinfo=UTC)


def test_inventory_count_of_unknown_variation_keeps_the_reference() -> None:
    count = {
        "calculated_at": "2026-11-02T18:38:45Z",
        "catalog_object_id": "UNKNOWNVARIATION",
        "location_id": "LOTHER",
        "quantity": "1",
        "state": "IN_STOCK",
    }
    body = envelope(
        "inventory.count.updated", {"object": {"inventory_counts": [count]}}, event_id="e"
    )
    (event,) = endpoint().parse(headers={}, body=body)
    assert isinstance(event, InventoryChanged)
    assert event.level is None
    assert event.item_ref == "UNKNOWNVARIATION"
    assert event.location_ref == "square:LOTHER"


def test_several_counts_get_distinct_stable_event_ids() -> None:
    counts = [
        {
            "calculated_at": "2026-11-02T18:38:45Z",
            "catalog_object_id": VARIATION,
            "location_id": location,
            "quantity": "1",
            "state": "IN_STOCK",
        }
        for location in (LOCATION, "L2")
    ]
    body = envelope("inventory.count.updated", {"object": {"inventory_counts": counts}}, "e9")
    first = [e.event_id for e in endpoint().parse(headers={}, body=body)]
    again = [e.event_id for e in endpoint().parse(headers={}, body=body)]
    assert first == again
    assert len(set(first)) == 2


def test_order_events_carry_only_the_order_id() -> None:
    summary = {
        "order_id": "eA3vssLHKJrv9H0IdJCM3gNqfdcZY",
        "location_id": LOCATION,
        "state": "COMPLETED",
        "version": 2,
        "created_at": "2026-11-02T23:14:26.129Z",
    }
    for event_type, key in (("order.updated", "order_updated"), ("order.created", "order_created")):
        body = envelope(
            event_type, {"type": key, "id": summary["order_id"], "object": {key: summary}}
        )
        (event,) = endpoint().parse(headers={}, body=body)
        assert isinstance(event, OrderChanged)
        assert event.order_id == "eA3vssLHKJrv9H0IdJCM3gNqfdcZY"
        assert event.order is None


def test_customer_events() -> None:
    customer = {
        "id": "C1",
        "given_name": "Amelia",
        "email_address": "AMELIA@EXAMPLE.COM",
        "phone_number": "(212) 555-0134",
        "updated_at": "2026-11-02T00:00:00Z",
        "version": 3,
    }
    data = {"type": "customer", "id": "C1", "object": {"customer": customer}}
    (updated,) = endpoint().parse(headers={}, body=envelope("customer.updated", data))
    assert isinstance(updated, CustomerChanged)
    assert updated.customer is not None
    assert updated.customer.emails == ("AMELIA@EXAMPLE.COM",)
    assert updated.customer.phones == ("(212) 555-0134",)
    assert not updated.deleted
    (deleted,) = endpoint().parse(headers={}, body=envelope("customer.deleted", data))
    assert isinstance(deleted, CustomerChanged)
    assert deleted.deleted
    assert deleted.customer is None
    assert deleted.customer_id == "C1"


def test_refund_events() -> None:
    refund = {
        "id": "R1",
        "status": "COMPLETED",
        "order_id": "O1",
        "amount_money": {"amount": 1050, "currency": "USD"},
    }
    data = {"type": "refund", "id": "R1", "object": {"refund": refund}}
    (created,) = endpoint().parse(headers={}, body=envelope("refund.created", data))
    assert isinstance(created, RefundCreated)
    assert (created.order_id, created.refund_id) == ("O1", "R1")
    assert created.amount is not None
    assert created.amount.amount == Decimal("10.50")
    failed = {**data, "object": {"refund": {**refund, "status": "FAILED"}}}
    (event,) = endpoint().parse(headers={}, body=envelope("refund.updated", failed))
    assert isinstance(event, OrderChanged)
    unlinked = {**data, "object": {"refund": {**refund, "order_id": None}}}
    assert endpoint().parse(headers={}, body=envelope("refund.created", unlinked)) == []


def test_location_event_maps_the_id_and_drops_the_location_cache() -> None:
    dropped: list[bool] = []
    hooks = endpoint(on_location_change=lambda: dropped.append(True))
    body = json.loads(envelope("location.updated", {"type": "location", "id": LOCATION}))
    body["location_id"] = LOCATION
    (event,) = hooks.parse(headers={}, body=json.dumps(body).encode())
    assert isinstance(event, LocationChanged)
    assert event.location_id == "shopify:53716844710"
    assert dropped == [True]


def test_unknown_types_are_ignored_and_garbage_is_a_parse_error() -> None:
    hooks = endpoint()
    assert hooks.parse(headers={}, body=envelope("payment.created", {"id": "p"})) == []
    for body in (
        b"not json",
        b"[]",
        b'{"type": "order.updated"}',
        envelope("order.updated", {"object": {}}),
        envelope("inventory.count.updated", {"object": {"inventory_counts": "x"}}),
    ):
        with pytest.raises(WebhookParseError):
            hooks.parse(headers={}, body=body)


# --- payload shapes -------------------------------------------------------------------------------


BAD_EMAIL = {
    "type": "customer",
    "id": "C1",
    "object": {"customer": {"id": "C1", "email_address": 123}},
}
UNNAMED = {"type": "customer", "object": {"customer": {"id": "C1"}}}
MISMATCHED = {"type": "customer", "id": "C2", "object": {"customer": {"id": "C1"}}}
BAD_AMOUNT = {
    "type": "refund",
    "object": {"refund": {"order_id": "O1", "amount_money": {"amount": "ten", "currency": "USD"}}},
}
BAD_COUNT = {"object": {"inventory_counts": [{"catalog_object_id": 7}]}}  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [
        ("customer.updated", BAD_EMAIL, "email_address"),
        ("customer.deleted", UNNAMED, "^customer.deleted: id: "),
        ("customer.deleted", MISMATCHED, "differ"),
        ("customer.deleted", {"type": "order_updated", "id": "C1"}, "data.type"),
        ("refund.created", BAD_AMOUNT, "amount"),
        ("inventory.count.updated", BAD_COUNT, "catalog_object_id"),
    ],
)
def test_a_payload_the_mapping_could_not_use_is_a_parse_error_naming_the_field(
    event_type: str, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(WebhookParseError, match=field):
        endpoint().parse(headers={}, body=envelope(event_type, data))


def test_identify_reads_type_and_event_id_and_never_raises() -> None:
    hooks = endpoint()
    found = hooks.identify(headers={}, body=envelope("order.updated", {"id": "o"}, "evt-7"))
    assert (found.topic, found.event_id) == ("order.updated", "evt-7")
    for garbage in (b"not json", b"[]", b'{"type": 5}'):
        assert hooks.identify(headers={}, body=garbage).event_id is None
