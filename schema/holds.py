"""Pickup holds in the schema: ``createPickupHold``, ``releasePickupHold``,
``completePickupHold``, ``pickupHold`` and the ``PickupHold`` type (``Customer.pickupHolds``
lists a customer's). Who may do what is :mod:`resolvers.stock.hold_access`; this module only
maps arguments in and holds out."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from resolvers.context import RequestContext
from resolvers.model import Hold
from resolvers.stock import holds
from resolvers.stock.hold_access import may_read, shows_customer
from resolvers.viewer import Role, Viewer
from schema.locations import Location
from schema.permissions import guarded
from schema.stock import StockLevel, stock_level_from

Info = strawberry.Info[RequestContext, None]

HOLDERS = (Role.STOREFRONT, Role.STAFF, Role.INTERNAL)


@strawberry.enum
class PickupHoldStatus(enum.Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    SETTLED = "settled"
    RELEASED = "released"
    EXPIRED = "expired"


@strawberry.type(
    description="Units of one SKU reserved at one store for pickup. ACTIVE until released, "
    "expired or picked up (COMPLETED); a completed hold keeps its units held until the "
    "vendor's count shows the sale (SETTLED), so they are never sellable twice."
)
class PickupHold:
    id: strawberry.ID
    sku: str
    location_id: strawberry.ID
    quantity: int
    status: PickupHoldStatus
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None
    customer_id: strawberry.ID | None = strawberry.field(
        description="Null for an anonymous hold, and for a storefront unless it is its own "
        "signed-in customer's."
    )

    @strawberry.field(description="The pickup store.")
    def location(self) -> Location:
        return Location(id=self.location_id)

    @strawberry.field(description="The level at the hold's store now.")
    async def stock(self, info: Info) -> StockLevel | None:
        levels = await info.context.services.store.inventory.get_stock(
            [self.sku], [str(self.location_id)]
        )
        return stock_level_from(levels[0]) if levels else None

    @classmethod
    def of(cls, hold: Hold, viewer: Viewer) -> PickupHold:
        shown = hold.customer_id if shows_customer(viewer, hold) else None
        return cls(
            id=strawberry.ID(hold.id),
            sku=hold.sku,
            location_id=strawberry.ID(hold.location_id),
            quantity=hold.quantity,
            status=PickupHoldStatus(hold.status.value),
            created_at=hold.created_at,
            expires_at=hold.expires_at,
            completed_at=hold.completed_at,
            customer_id=strawberry.ID(shown) if shown else None,
        )


@strawberry.input
class CreatePickupHoldInput:
    sku: str
    location_id: strawberry.ID = strawberry.field(description="The pickup store's unified id.")
    quantity: int = 1
    ttl_minutes: int | None = strawberry.field(
        default=None, description="How long the hold lasts (default and bounds: settings)."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Whom the hold is for. A storefront may name only its signed-in customer "
        "(the default when it sends a customer token); omitted without one: anonymous.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the same hold."
    )


async def customer_holds(info: Info, customer_id: str, first: int) -> list[PickupHold]:
    """``Customer.pickupHolds``: the customer's holds this viewer may read, newest first."""
    viewer = info.context.viewer
    found = await holds.for_customer(info.context.services, customer_id, limit=first)
    return [PickupHold.of(h, viewer) for h in found if may_read(viewer, h)]


@strawberry.type
class HoldQuery:
    @strawberry.field(description="One pickup hold by id.", extensions=guarded(*HOLDERS))
    async def pickup_hold(self, info: Info, id: strawberry.ID) -> PickupHold:
        viewer = info.context.viewer
        hold = await holds.get(info.context.services, viewer, str(id))
        return PickupHold.of(hold, viewer)


@strawberry.type
class HoldMutation:
    @strawberry.mutation(
        description="Reserve units at a pickup store, in one atomic conditional write against "
        "sellableForPickup. Errors: INSUFFICIENT_STOCK, PICKUP_NOT_ENABLED, UNKNOWN_SKU, "
        "UNKNOWN_LOCATION, BAD_USER_INPUT, FORBIDDEN.",
        extensions=guarded(*HOLDERS),
    )
    async def create_pickup_hold(self, info: Info, input: CreatePickupHoldInput) -> PickupHold:
        viewer = info.context.viewer
        request = holds.HoldRequest(
            sku=input.sku,
            location_id=str(input.location_id),
            quantity=input.quantity,
            ttl_minutes=input.ttl_minutes,
            customer_id=str(input.customer_id) if input.customer_id is not None else None,
            idempotency_key=input.idempotency_key,
        )
        hold = await holds.create(info.context.services, viewer, request)
        return PickupHold.of(hold, viewer)

    @strawberry.mutation(
        description="Give an active hold's units back. Errors: HOLD_NOT_FOUND, HOLD_EXPIRED, "
        "HOLD_NOT_ACTIVE (picked up), FORBIDDEN.",
        extensions=guarded(*HOLDERS),
    )
    async def release_pickup_hold(self, info: Info, id: strawberry.ID) -> PickupHold:
        viewer = info.context.viewer
        hold = await holds.release(info.context.services, viewer, str(id))
        return PickupHold.of(hold, viewer)

    @strawberry.mutation(
        description="Staff at the hold's store: the customer picked it up. The units stay "
        "held until the vendor's count shows the sale. Errors: HOLD_NOT_FOUND, HOLD_EXPIRED, "
        "HOLD_NOT_ACTIVE (released), FORBIDDEN.",
        extensions=guarded(Role.STAFF, Role.INTERNAL),
    )
    async def complete_pickup_hold(self, info: Info, id: strawberry.ID) -> PickupHold:
        viewer = info.context.viewer
        hold = await holds.complete(info.context.services, viewer, str(id))
        return PickupHold.of(hold, viewer)


__all__ = [
    "CreatePickupHoldInput",
    "HoldMutation",
    "HoldQuery",
    "PickupHold",
    "PickupHoldStatus",
    "customer_holds",
]
