"""What a viewer may see of a customer: the one rule every customer field asks.

- ``internal``, and ``staff`` bound to ``"*"``: every customer, every order in full.
- ``staff`` bound to stores: a customer with activity at one of their stores (an order
  there, or an upstream record a POS created there; holds and loyalty will join), or one they
  found at the counter by an exact email or phone (``customerLookup``). Of a customer they
  see, orders at their stores in full and every other order (another store's, an online one)
  as a summary. Any other customer is not served to them: ``customer`` and ``_entities``
  answer ``FORBIDDEN``, a name lookup leaves it out.
- ``storefront``: only the customer its signed customer token names, all of its orders.
- anyone else (``router``, anonymous): no customer.

The schema calls these functions; nothing here knows GraphQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.records import OrderRecord
from resolvers.customers.lookup import classify_query
from resolvers.customers.profile import UnifiedProfile
from resolvers.errors import Forbidden
from resolvers.viewer import Role, Viewer


def may_see(
    viewer: Viewer, profile_id: str, locations: Iterable[str], *, exact_match: bool = False
) -> bool:
    """Whether ``viewer`` may see the customer ``profile_id`` with activity at
    ``locations``; ``exact_match``: found by an exact email or phone at the counter."""
    if viewer.role is Role.STOREFRONT:
        return viewer.customer_id is not None and viewer.customer_id == profile_id
    if viewer.role is not Role.STAFF:
        return viewer.role is Role.INTERNAL
    return viewer.every_store or exact_match or any(viewer.works_at(loc) for loc in locations)


def may_see_profile(viewer: Viewer, profile: UnifiedProfile, *, exact_match: bool = False) -> bool:
    return may_see(viewer, profile.id, profile.locations, exact_match=exact_match)


def require_visible(viewer: Viewer, profile: UnifiedProfile, *, exact_match: bool = False) -> None:
    """Raises ``FORBIDDEN``, saying why, unless ``viewer`` may see ``profile``."""
    if may_see_profile(viewer, profile, exact_match=exact_match):
        return
    if viewer.role is Role.STAFF:
        raise Forbidden(
            "This customer has no activity at this token's stores; at the counter, find "
            "them by their exact email or phone.",
            extensions={"customerId": profile.id},
        )
    raise Forbidden("personal data needs a staff or internal token")


def order_in_full(viewer: Viewer, profile: UnifiedProfile, order: OrderRecord) -> bool:
    """Whether ``viewer`` sees ``order`` of ``profile`` in full (else as a summary)."""
    if viewer.role is Role.STOREFRONT:
        return viewer.customer_id == profile.id
    return viewer.works_at(order.location_id)


def is_exact_match(query: str, emails: Iterable[str], phones: Iterable[str], region: str) -> bool:
    """Whether a counter ``query`` is, once normalised, one of these emails or phones (a
    name or a prefix never is)."""
    kind = classify_query(query, region)
    if kind is None:
        return False
    what, key = kind
    if what == "email":
        return key in set(emails)
    return what == "phone" and key in set(phones)


__all__ = ["is_exact_match", "may_see", "may_see_profile", "order_in_full", "require_visible"]
