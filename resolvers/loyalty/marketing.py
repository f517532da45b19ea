"""The loyalty figures written to the email tool's profile (Klaviyo properties), so a
campaign can say "you have 420 points, Gold, they lapse on 3 May" and segment on them.

Domain names here; the connector writes each under its own prefix (Klaviyo:
``omnigate_loyalty_points`` and so on, see ``connectors/klaviyo/properties.py``). Values are
absolute, so writing them twice, or late, is harmless: the newest read wins.
"""

from __future__ import annotations

from resolvers.loyalty.codes import member_code
from resolvers.loyalty.expiry import expires_at
from resolvers.loyalty.program import LoyaltyProgram
from resolvers.model import LoyaltyAccount

#: The domain names written, in the order documented (docs/loyalty.md).
PROPERTIES = (
    "points",
    "pending_points",
    "lifetime_points",
    "tier",
    "member_code",
    "points_expire_at",
)


def loyalty_properties(account: LoyaltyAccount, program: LoyaltyProgram) -> dict[str, object]:
    """The account's figures as profile properties. ``points_expire_at`` is ``None`` (the
    property is removed) when nothing lapses; a tier not recorded yet is not written, so a
    known tier is never overwritten with nothing."""
    properties: dict[str, object] = {
        "points": account.balance,
        "pending_points": account.pending,
        "lifetime_points": account.lifetime_earned,
        "member_code": member_code(account.id),
        "points_expire_at": expires_at(account, program),
    }
    if account.tier is not None:
        properties["tier"] = account.tier
    return properties
