"""Keeping profiles right when a vendor says a customer, order or refund changed."""

from __future__ import annotations

import logging

from connectors.capabilities import CustomerSource, OrderSource
from connectors.records import (
    CustomerChanged,
    OrderChanged,
    PrivacyRequest,
    PrivacyRequestKind,
    RefundCreated,
    Source,
)
from resolvers.customers.ports import CustomerServices
from resolvers.customers.retire import retire_profile
from resolvers.delivery import current_delivery
from resolvers.errors import DeadlineExceeded, NotFound
from resolvers.identity.normalize import normalize_email

log = logging.getLogger("omnigate.customers")


async def on_customer_changed(services: CustomerServices, event: CustomerChanged) -> None:
    store = services.store
    if event.deleted:
        removed = await store.identities.delete_identity(event.source, event.customer_id)
        if removed is not None:
            await _rebuild_or_drop(services, removed.profile_id)
        return
    record = event.customer
    if record is None:
        connector = services.connectors.get(event.source)
        if isinstance(connector, CustomerSource):
            record = (await connector.get_customers([event.customer_id])).get(event.customer_id)
    if record is None:
        return
    report = await services.linker.link([record])
    if report.skipped_erased or report.skipped_stale:
        log.info(
            "%s customer event %s ignored: %s",
            event.source,
            event.event_id,
            "the person was erased" if report.skipped_erased else "older than what we hold",
        )
    for profile_id in sorted(report.touched):
        await _rebuild(services, profile_id)


async def on_order_changed(services: CustomerServices, event: OrderChanged) -> None:
    customer_id = event.customer_id or (event.order.customer_id if event.order else None)
    email = event.order.email if event.order else None
    if customer_id is None and email is None:
        connector = services.connectors.get(event.source)
        if isinstance(connector, OrderSource):
            order = (await connector.get_orders([event.order_id])).get(event.order_id)
            if order is not None:
                customer_id, email = order.customer_id, order.email
    await _refresh_for(services, event.source, customer_id, email)


async def on_refund_created(services: CustomerServices, event: RefundCreated) -> None:
    connector = services.connectors.get(event.source)
    if not isinstance(connector, OrderSource):
        return
    order = (await connector.get_orders([event.order_id])).get(event.order_id)
    if order is not None:
        await _refresh_for(services, event.source, order.customer_id, order.email)


async def on_privacy_request(services: CustomerServices, event: PrivacyRequest) -> None:
    """Erase the person a redact request names. The parser only lets a well-formed request of
    that kind through (the topic is an unsigned header); the erasure is logged with the
    identity of the delivery that asked for it, and the profile ids, never an email."""
    delivery = current_delivery()
    identity = {
        "vendor": str(event.source),
        "topic": delivery.topic if delivery is not None else None,
        "event_id": event.event_id,
        "body_digest": delivery.body_digest if delivery is not None else None,
    }
    if event.kind is not PrivacyRequestKind.REDACT_CUSTOMER:
        log.info("privacy request %s acknowledged", event.kind.value, extra=identity)
        return
    profile_ids: set[str] = set()
    if event.customer_id:
        found = await services.store.identities.get_identities([(event.source, event.customer_id)])
        profile_ids |= {i.profile_id for i in found.values()}
    email = normalize_email(event.email)
    if email:
        profile_ids |= {
            d.id for d in await services.store.profiles.find_profiles(email=email, limit=5)
        }
    erased: list[str] = []
    for profile_id in sorted(profile_ids):
        try:
            await services.admin.erase(profile_id)
        except NotFound:
            continue  # erased meanwhile (a second request for the same person)
        erased.append(profile_id)
    log.info(
        "privacy request erased profiles %s: vendor=%s topic=%s event_id=%s body_sha256=%s",
        ", ".join(erased) or "(none matched)",
        identity["vendor"],
        identity["topic"],
        identity["event_id"],
        identity["body_digest"],
        extra={**identity, "erased_profiles": erased},
    )


async def _refresh_for(
    services: CustomerServices, source: Source, customer_id: str | None, email: str | None
) -> None:
    profile_ids: set[str] = set()
    if customer_id:
        found = await services.store.identities.get_identities([(source, customer_id)])
        profile_ids |= {i.profile_id for i in found.values()}
    normalized = normalize_email(email)
    if not profile_ids and normalized:
        profile_ids |= {
            d.id for d in await services.store.profiles.find_profiles(email=normalized, limit=5)
        }
    for profile_id in sorted(profile_ids):
        await _rebuild(services, profile_id)


async def _rebuild_or_drop(services: CustomerServices, profile_id: str) -> None:
    remaining = (await services.store.identities.identities_of([profile_id])).get(profile_id, [])
    if remaining:
        await services.store.profiles.invalidate_profiles([profile_id])
        await _rebuild(services, profile_id)
    else:
        # The linker's hook: a profile left without identities is the linker's to retire.
        await retire_profile(services.store, profile_id, on_retired=services.linker.on_retired)


async def _rebuild(services: CustomerServices, profile_id: str) -> None:
    """Rebuild a profile an event changed, within the delivery's deadline. The event is
    applied once its identities are written; a rebuild still waiting on a vendor at the
    deadline goes on in the background (under its own deadline) rather than keeping the
    vendor's delivery waiting, and the profile is served stale until it lands."""
    try:
        await services.customers.refresh(profile_id)
    except DeadlineExceeded:
        log.info("profile %s still rebuilding after the webhook's deadline", profile_id)
