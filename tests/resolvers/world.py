"""A small three-vendor world for resolver tests: Jane (Shopify, two Square records, Klaviyo),
a family sharing a phone (Ann and Ben Lee), strangers sharing a placeholder email, and an
email-only subscriber."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.records import Channel, LineItem, Money, OrderRecord, Source
from resolvers.context import Services

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def order(source: Source, oid: str, customer: str, channel: Channel, total: str) -> OrderRecord:
    return OrderRecord(
        source=source,
        id=oid,
        channel=channel,
        created_at=T0,
        total=Money.of(total, "USD"),
        customer_id=customer,
        location_id="shopify:1" if channel is Channel.IN_STORE else None,
        line_items=(LineItem("SKU-1", "Thing", 1, Money.of(total, "USD")),),
    )


async def profile_of(services: Services, source: Source, sid: str) -> str:
    found = await services.store.identities.get_identities([(source, sid)])
    return found[(source, sid)].profile_id
