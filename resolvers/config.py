"""The settings resolvers need, copied from the gateway's settings by the composition root so
that resolvers do not depend on the serving layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from resolvers.loyalty.program import LoyaltyProgram


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    max_page_size: int = 100
    default_phone_region: str = "US"
    profile_ttl_seconds: int = 300
    refresh_deadline_seconds: float = 30.0
    placeholder_emails: tuple[str, ...] = ()
    placeholder_phones: tuple[str, ...] = ()
    placeholder_threshold: int = 5
    #: Most records of one source in one profile; empty: each vendor's own limit.
    identity_limits: tuple[tuple[str, int], ...] = ()
    #: Pickup holds: most units one hold may reserve, and its ttl (default, bounds) in minutes.
    hold_max_quantity: int = 10
    hold_ttl_minutes: int = 30
    hold_ttl_min_minutes: int = 5
    hold_ttl_max_minutes: int = 1440
    #: A completed hold whose sale the vendor's count never showed is settled this late.
    hold_settle_timeout_minutes: int = 60
    #: Units kept back from pickup holds, per unified location id, and elsewhere.
    safety_stock: tuple[tuple[str, int], ...] = ()
    safety_stock_default: int = 0
    #: The loyalty programme's rules (earn rate, tiers, return window, expiry, referrals).
    loyalty: LoyaltyProgram = field(default_factory=LoyaltyProgram)

    def safety_stock_for(self, location_id: str) -> int:
        return dict(self.safety_stock).get(location_id, self.safety_stock_default)
