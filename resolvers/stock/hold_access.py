"""Who may do what with a pickup hold: the one rule the hold service asks before any write.

- ``internal``: everything.
- ``staff``: create, read, complete and release holds at the stores its token is bound to
  (``"*"``: every store); a hold at another store is ``FORBIDDEN``.
- ``storefront``: creates holds anonymously, or for the customer its signed customer token
  names (a ``customerId`` that is not the token's is ``FORBIDDEN``); reads and releases the
  holds it could have created: an anonymous hold by its id (a random 128-bit id is the
  capability, as a cart id is), a customer's hold only with that customer's token. It never
  completes one: a pickup is confirmed at the counter.
- anyone else: nothing (the schema's permission classes refuse them first).

Nothing here knows GraphQL.
"""

from __future__ import annotations

from resolvers.errors import Forbidden
from resolvers.model import Hold
from resolvers.viewer import Role, Viewer


def creation_customer(viewer: Viewer, location_id: str, customer_id: str | None) -> str | None:
    """The customer a new hold is for, or ``FORBIDDEN``. A storefront with a customer token
    that names no ``customerId`` holds for the token's customer, so the hold shows in their
    ``pickupHolds``."""
    if viewer.role is Role.INTERNAL:
        return customer_id
    if viewer.role is Role.STAFF:
        if not viewer.works_at(location_id):
            raise Forbidden(
                "This staff token may only place holds at its own stores.",
                extensions={"locationId": location_id},
            )
        return customer_id
    if viewer.role is Role.STOREFRONT:
        if customer_id is None:
            return viewer.customer_id
        if customer_id != viewer.customer_id:
            raise Forbidden(
                "A storefront holds for its own signed-in customer only: send that customer's "
                "token (X-Customer-Token), or no customerId for an anonymous hold.",
                extensions={"customerId": customer_id},
            )
        return customer_id
    raise Forbidden("Pickup holds need a storefront, staff or internal token.")


def may_read(viewer: Viewer, hold: Hold) -> bool:
    if viewer.role is Role.INTERNAL:
        return True
    if viewer.role is Role.STAFF:
        return viewer.works_at(hold.location_id)
    if viewer.role is Role.STOREFRONT:
        return hold.customer_id is None or hold.customer_id == viewer.customer_id
    return False


def require_release(viewer: Viewer, hold: Hold) -> None:
    """Who may read a hold may give it back (staff: at its stores)."""
    if not may_read(viewer, hold):
        raise _refusal(viewer, hold, "release")


def require_complete(viewer: Viewer, hold: Hold) -> None:
    """Completing hands the goods over: staff at that store, or internal."""
    if viewer.role is Role.INTERNAL:
        return
    if viewer.role is Role.STAFF and viewer.works_at(hold.location_id):
        return
    raise _refusal(viewer, hold, "complete")


def require_read(viewer: Viewer, hold: Hold) -> None:
    if not may_read(viewer, hold):
        raise _refusal(viewer, hold, "read")


def shows_customer(viewer: Viewer, hold: Hold) -> bool:
    """A storefront sees a hold's customer id only when it is its own customer's."""
    if viewer.role is Role.STOREFRONT:
        return hold.customer_id is not None and hold.customer_id == viewer.customer_id
    return viewer.role in (Role.STAFF, Role.INTERNAL)


def _refusal(viewer: Viewer, hold: Hold, action: str) -> Forbidden:
    if viewer.role is Role.STAFF:
        return Forbidden(
            f"This staff token may only {action} holds at its own stores.",
            extensions={"locationId": hold.location_id},
        )
    if viewer.role is Role.STOREFRONT and action == "complete":
        return Forbidden("A pickup is completed by staff at the store, not by the storefront.")
    return Forbidden(f"This token may not {action} this hold.")


__all__ = [
    "creation_customer",
    "may_read",
    "require_complete",
    "require_read",
    "require_release",
    "shows_customer",
]
