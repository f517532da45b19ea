"""The loyalty programme's rules: how many points an order earns, which tier a member is in,
and how long points live. Plain values from settings, shared by every path that moves points
(webhooks, sync, the schema), so all of them earn alike.

A tier is reached by *qualifying spend*: the net paid amount of a member's orders in the
rolling 12 months before now, in every channel. Its multiplier scales what an order earns;
the tier an order earns at is the one its member held before it (recorded on the entry), so
a refund claws back at that same rate later, whatever the rules are by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from connectors.records import OrderRecord

#: Tiers are reached on the spend of this rolling period.
QUALIFYING_PERIOD = timedelta(days=365)
#: The ``rule`` recorded on earn entries (with the ``rate`` that applied).
EARN_RULE = "earn-per-unit"


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    #: Qualifying spend (currency units, 12 months) from which a member is in this tier.
    threshold: Decimal
    multiplier: Decimal = Decimal(1)


def _default_tiers() -> tuple[Tier, ...]:
    return (
        Tier("Member", Decimal(0), Decimal(1)),
        Tier("Silver", Decimal(500), Decimal("1.25")),
        Tier("Gold", Decimal(1500), Decimal("1.5")),
    )


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    #: Points per currency unit of net paid amount (before the tier's multiplier).
    earn_rate: Decimal = Decimal(1)
    #: Sorted by threshold; the first starts at 0.
    tiers: tuple[Tier, ...] = field(default_factory=_default_tiers)
    #: Earned points stay pending (not spendable) this long after the order; 0: at once.
    return_window_days: int = 0
    #: Whether a refund's clawback may take the balance below zero (else it stops at zero
    #: and records the shortfall).
    allow_negative: bool = False
    #: Points lapse after this many days without a movement; 0: never.
    expiry_days: int = 365
    #: Points each side of a referral gets, once.
    referral_bonus: int = 500

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].threshold != 0:
            raise ValueError("the first tier starts at a qualifying spend of 0")
        thresholds = [t.threshold for t in self.tiers]
        if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
            raise ValueError("tiers are listed by rising threshold, each threshold once")
        if self.earn_rate < 0 or any(t.multiplier < 0 for t in self.tiers):
            raise ValueError("earn rate and multipliers are 0 or more")

    @property
    def return_window(self) -> timedelta:
        return timedelta(days=self.return_window_days)

    def tier_for(self, spend: Decimal) -> Tier:
        reached = [t for t in self.tiers if spend >= t.threshold]
        return reached[-1] if reached else self.tiers[0]

    def next_tier(self, spend: Decimal) -> Tier | None:
        return next((t for t in self.tiers if t.threshold > spend), None)

    def rate(self, tier: Tier) -> Decimal:
        """Points per currency unit at this tier: the rate recorded on an earn entry."""
        return self.earn_rate * tier.multiplier

    @staticmethod
    def points(amount: Decimal, rate: Decimal) -> int:
        """Whole points for an amount at a rate, rounded down (a cent never earns a point
        the customer cannot see in the rule)."""
        if amount <= 0:
            return 0
        return int((amount * rate).to_integral_value(rounding=ROUND_FLOOR))


def qualifying_spend(orders: Iterable[OrderRecord], until: datetime) -> Decimal:
    """Net paid amount of the orders of the 12 months before ``until``: cancelled orders and
    what was refunded do not count."""
    since = until - QUALIFYING_PERIOD
    seen: dict[tuple[str, str], Decimal] = {}
    for order in orders:
        if order.cancelled or not order.paid or not (since <= order.created_at < until):
            continue
        seen[(str(order.source), order.id)] = max(order.net.amount, Decimal(0))
    return sum(seen.values(), Decimal(0))
