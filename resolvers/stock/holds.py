"""Pickup holds: a customer's units at one store, reserved until they collect them.

The decision that matters (is there a unit left?) is never made here: ``create`` validates
the request, then hands the hold to the store's one conditional write against
``sellableForPickup`` (``available - safety_stock - held``), which either reserves the units
or refuses; reading the level first and writing after would let two requests both see the
last unit. The hold is placed at the pickup store itself, keyed by its unified location id,
whichever vendor (Shopify, Square) reports that store's stock.

Life of a hold (``resolvers.model.HoldStatus``): ``ACTIVE`` (units held, expires at
``expires_at``) -> ``RELEASED`` (cancelled) or ``EXPIRED`` (ttl ran out; the sweeper, or the
first caller to touch it after) give the units back; ``ACTIVE`` -> ``COMPLETED`` (picked up)
keeps them held until the vendor's count shows the sale, then ``SETTLED`` (see
:mod:`resolvers.stock.settlement`). Every transition is one conditional store write, so
racing callers move the units exactly once; every write that changed a level is announced
through :func:`resolvers.stock.changes.announce`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from connectors.errors import UpstreamError
from connectors.records import LocationRecord
from resolvers.config import ResolverConfig
from resolvers.errors import BadUserInput, OmnigateError
from resolvers.locations import LocationDirectory
from resolvers.model import Hold, HoldStatus
from resolvers.stock.changes import StockServices, announce
from resolvers.stock.hold_access import (
    creation_customer,
    require_complete,
    require_read,
    require_release,
)
from resolvers.viewer import Viewer


class HoldServices(StockServices, Protocol):
    """What the hold service needs of ``resolvers.context.Services``."""

    @property
    def locations(self) -> LocationDirectory: ...

    @property
    def config(self) -> ResolverConfig: ...

    @property
    def hold_refused(self) -> Callable[[str], None]:
        """Told the code of each request :func:`create` refuses before the store decides
        (metrics; the store's own refusal, ``INSUFFICIENT_STOCK``, is counted at the store)."""
        ...


class HoldError(OmnigateError):
    """A hold request that cannot be served as asked; its ``code`` says why."""


@dataclass(frozen=True, slots=True)
class HoldRequest:
    sku: str
    location_id: str
    quantity: int
    ttl_minutes: int | None = None
    customer_id: str | None = None
    idempotency_key: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_hold_id() -> str:
    """Random, 128 bits: an anonymous hold's id is what lets its storefront find it again."""
    return f"hold_{uuid.uuid4().hex}"


def check_request(request: HoldRequest, config: ResolverConfig) -> int:
    """``BAD_USER_INPUT`` for a quantity or ttl out of range; the ttl in minutes."""
    if not request.sku.strip():
        raise BadUserInput("`sku` must not be empty", extensions={"argument": "sku"})
    if not 1 <= request.quantity <= config.hold_max_quantity:
        raise BadUserInput(
            f"`quantity` must be between 1 and {config.hold_max_quantity}",
            extensions={"argument": "quantity", "max": config.hold_max_quantity},
        )
    ttl = request.ttl_minutes if request.ttl_minutes is not None else config.hold_ttl_minutes
    low, high = config.hold_ttl_min_minutes, config.hold_ttl_max_minutes
    if not low <= ttl <= high:
        raise BadUserInput(
            f"`ttlMinutes` must be between {low} and {high}",
            extensions={"argument": "ttlMinutes", "min": low, "max": high},
        )
    if request.idempotency_key is not None and not 1 <= len(request.idempotency_key) <= 200:
        raise BadUserInput(
            "`idempotencyKey` must be 1 to 200 characters",
            extensions={"argument": "idempotencyKey"},
        )
    return ttl


async def create(
    services: HoldServices, viewer: Viewer, request: HoldRequest, *, now: datetime | None = None
) -> Hold:
    """Place a hold, or raise: ``BAD_USER_INPUT``, ``FORBIDDEN``, ``UNKNOWN_LOCATION``,
    ``PICKUP_NOT_ENABLED``, ``UNKNOWN_SKU``, ``INSUFFICIENT_STOCK``, ``UPSTREAM_UNAVAILABLE``
    (a vendor's location list could not be read, so the store may exist). A repeated
    ``idempotencyKey`` returns the hold it made the first time, whatever its state now."""
    try:
        ttl, customer_id, location = await _admit(services, viewer, request)
    except (OmnigateError, UpstreamError) as refused:
        services.hold_refused(refused.code)
        raise
    inventory = services.store.inventory
    at = now or utc_now()
    hold = Hold(
        id=new_hold_id(),
        sku=request.sku,
        location_id=request.location_id,
        quantity=request.quantity,
        status=HoldStatus.ACTIVE,
        created_at=at,
        expires_at=at + timedelta(minutes=ttl),
        customer_id=customer_id,
        idempotency_key=request.idempotency_key,
    )
    written = await inventory.create_hold(hold)
    if written is None:
        raise HoldError(
            f"Not enough {request.sku} left for pickup at {location.name}.",
            code="INSUFFICIENT_STOCK",
            extensions={"sku": request.sku, "locationId": request.location_id},
        )
    await announce(services, written.change)
    if written.change is None:  # a replay: the hold the key made, as it is now
        _check_replay(viewer, written.hold, hold)
        return await _expired_when_due(services, written.hold, at)
    return written.hold


async def _admit(
    services: HoldServices, viewer: Viewer, request: HoldRequest
) -> tuple[int, str | None, LocationRecord]:
    """What a request must pass before the store is asked: its ttl in minutes, the customer
    it is for, and the pickup location."""
    ttl = check_request(request, services.config)
    customer_id = creation_customer(viewer, request.location_id, request.customer_id)
    location = await services.locations.find(request.location_id)
    if location is None:
        raise HoldError(
            f"There is no location {request.location_id!r}.",
            code="UNKNOWN_LOCATION",
            extensions={"locationId": request.location_id},
        )
    if not location.pickup_enabled or not location.active:
        raise HoldError(
            f"{location.name} does not offer store pickup.",
            code="PICKUP_NOT_ENABLED",
            extensions={"locationId": request.location_id},
        )
    if not await _known_sku(services, request.sku):
        raise HoldError(
            f"No catalog lists, and no location stocks, the SKU {request.sku!r}.",
            code="UNKNOWN_SKU",
            extensions={"sku": request.sku},
        )
    return ttl, customer_id, location


async def _known_sku(services: HoldServices, sku: str) -> bool:
    """In the catalog map, or stocked somewhere: the catalog is built in the background at
    start-up, and a level that arrived first (a webhook, the warm-up) names a real SKU too."""
    if await services.store.catalog.get_entries([sku]):
        return True
    return bool(await services.store.inventory.get_stock([sku]))


def _check_replay(viewer: Viewer, existing: Hold, asked: Hold) -> None:
    """A replayed key must name the same hold: a key reused for another request (or by
    another customer) is a client bug, reported rather than answered with someone's hold."""
    same = (
        existing.sku == asked.sku
        and existing.location_id == asked.location_id
        and existing.quantity == asked.quantity
        and existing.customer_id == asked.customer_id
    )
    if not same:
        raise BadUserInput(
            "This idempotencyKey was already used for a different hold request.",
            extensions={"argument": "idempotencyKey"},
        )
    require_read(viewer, existing)


async def get(
    services: HoldServices, viewer: Viewer, hold_id: str, *, now: datetime | None = None
) -> Hold:
    """The hold as it is: one past its expiry that the sweeper has not reached yet is
    expired now, so no reader is told a hold is active after its time ran out."""
    hold = await _existing(services, hold_id)
    require_read(viewer, hold)
    return await _expired_when_due(services, hold, now or utc_now())


async def release(
    services: HoldServices, viewer: Viewer, hold_id: str, *, now: datetime | None = None
) -> Hold:
    """``ACTIVE`` -> ``RELEASED``, units back. Releasing a released hold answers it again; a
    hold past its expiry is expired on the spot (``HOLD_EXPIRED``); a completed one
    (picked up) cannot be released (``HOLD_NOT_ACTIVE``)."""
    hold = await _existing(services, hold_id)
    require_release(viewer, hold)
    hold = await _expire_if_due(services, hold, now or utc_now())
    if hold.status is HoldStatus.ACTIVE:
        written = await services.store.inventory.finish_hold(hold_id, HoldStatus.RELEASED)
        if written is not None:
            await announce(services, written.change)
            return written.hold
        # Another caller moved it first (expiry, completion): answer with what it is now.
        hold = await _existing(services, hold_id)
    if hold.status is HoldStatus.RELEASED:
        return hold
    raise _not_active(hold, "released")


async def complete(
    services: HoldServices, viewer: Viewer, hold_id: str, *, now: datetime | None = None
) -> Hold:
    """``ACTIVE`` -> ``COMPLETED``: picked up. The units stay held until the vendor's count
    shows the sale (settlement), so they are never sellable twice meanwhile. Completing a
    completed (or settled) hold answers it again."""
    hold = await _existing(services, hold_id)
    require_complete(viewer, hold)
    at = now or utc_now()
    hold = await _expire_if_due(services, hold, at)
    if hold.status is HoldStatus.ACTIVE:
        completed = await services.store.inventory.complete_hold(hold_id, at=at)
        if completed is not None:
            return completed
        hold = await _existing(services, hold_id)
    if hold.status in (HoldStatus.COMPLETED, HoldStatus.SETTLED):
        return hold
    raise _not_active(hold, "completed")


async def for_customer(
    services: HoldServices, customer_id: str, *, limit: int = 50, now: datetime | None = None
) -> list[Hold]:
    """A customer's holds, newest first (the caller has checked it may see the customer),
    those past their expiry expired as :func:`get` does."""
    at = now or utc_now()
    found = await services.store.inventory.holds_for_customer(customer_id, limit=limit)
    return [await _expired_when_due(services, hold, at) for hold in found]


async def _existing(services: HoldServices, hold_id: str) -> Hold:
    hold = await services.store.inventory.get_hold(hold_id)
    if hold is None:
        raise HoldError(
            f"There is no pickup hold {hold_id!r}.",
            code="HOLD_NOT_FOUND",
            extensions={"holdId": hold_id},
        )
    return hold


async def _expired_when_due(services: HoldServices, hold: Hold, now: datetime) -> Hold:
    """An active hold past its expiry, expired now (units back, announced) as the sweeper
    would; any other hold as it is."""
    if hold.status is not HoldStatus.ACTIVE or hold.expires_at > now:
        return hold
    written = await services.store.inventory.finish_hold(hold.id, HoldStatus.EXPIRED)
    if written is not None:
        await announce(services, written.change)
        return written.hold
    return await _existing(services, hold.id)  # another caller moved it first


async def _expire_if_due(services: HoldServices, hold: Hold, now: datetime) -> Hold:
    """A hold past its expiry that the sweeper has not reached yet is expired now and
    reported ``HOLD_EXPIRED``: its customer's time ran out whether or not the sweeper ran."""
    hold = await _expired_when_due(services, hold, now)
    if hold.status is HoldStatus.EXPIRED:
        raise HoldError(
            "This pickup hold has expired; its units went back on sale.",
            code="HOLD_EXPIRED",
            extensions={"holdId": hold.id, "expiresAt": hold.expires_at.isoformat()},
        )
    return hold


def _not_active(hold: Hold, wanted: str) -> HoldError:
    return HoldError(
        f"This pickup hold is {hold.status.value} and cannot be {wanted}.",
        code="HOLD_NOT_ACTIVE",
        extensions={"holdId": hold.id, "status": hold.status.value.upper()},
    )


__all__ = [
    "HoldError",
    "HoldRequest",
    "HoldServices",
    "check_request",
    "complete",
    "create",
    "for_customer",
    "get",
    "release",
]
