"""Record builders shared by the store tests, and the types of the conftest fixtures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from connectors.records import Source
from gateway.store import MongoStore
from resolvers.model import Hold, HoldStatus, LedgerEntry, LedgerKind, ProfileDoc, StockLevel

Doc = dict[str, object]
MongoStoreFactory = Callable[..., Awaitable[MongoStore]]

#: Millisecond-aligned: what BSON keeps, so values compare equal after a round trip.
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def profile(pid: str, **fields: object) -> ProfileDoc:
    doc = ProfileDoc(id=pid, body={"id": pid, "nested": {"tags": ["a"]}})
    for name, value in fields.items():
        setattr(doc, name, value)
    return doc


def level(
    sku: str = "SKU-1",
    location: str = "loc-a",
    *,
    available: int = 5,
    safety: int = 0,
    at: datetime = T0,
) -> StockLevel:
    return StockLevel(
        sku=sku,
        location_id=location,
        quantities={"available": available, "on_hand": available, "safety_stock": safety},
        updated_at=at,
        source=Source("shopify"),
    )


def hold(
    hid: str,
    *,
    qty: int = 1,
    key: str | None = None,
    expires: datetime = T0 + timedelta(minutes=30),
    sku: str = "SKU-1",
    location: str = "loc-a",
) -> Hold:
    return Hold(
        id=hid,
        sku=sku,
        location_id=location,
        quantity=qty,
        status=HoldStatus.ACTIVE,
        created_at=T0,
        expires_at=expires,
        customer_id="cus_1",
        idempotency_key=key,
    )


def entry(
    key: str, points: int, *, account: str = "acct-1", kind: LedgerKind | None = None
) -> LedgerEntry:
    return LedgerEntry(
        key=key,
        account_id=account,
        points=points,
        kind=kind or (LedgerKind.EARN if points >= 0 else LedgerKind.REDEEM),
        at=T0,
        source=Source("square"),
        channel="in_store",
        location_id="loc-a",
        order_ref="order-1",
        meta={"staff": "s-1"},
    )
