"""Points lapse after a period without movement (``LoyaltyProgram.expiry_days``; 0: never).

An account whose last movement (``updated_at``: any entry, earned, redeemed, adjusted) is
older than the period and that still has points gets one ``EXPIRE`` entry of its whole
balance, with the reason. Its key names the account and that last movement
(``expire:<account>:<updated_at>``), so one inactive period expires once however many
sweepers race, and a later period of inactivity expires again under a new key.

A member who earns or redeems while the sweep is deciding keeps their points: the entry is
written by the store's :meth:`~resolvers.store.LedgerStore.apply_if_unmoved`, which lands it
only if the account still holds what the sweep read (balance, pending, last movement;
``MOVED`` otherwise), in the same atomic step as the movement itself. Pending points
(inside a return window) do not lapse: they are not spendable yet, and their settlement is
a movement.

One sweep at a time across replicas (the store lease :data:`LEASE`), though two at once
would still expire each account once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from resolvers.events import EventBus
from resolvers.lease import HOLDER, Lease
from resolvers.loyalty.notify import account_changed
from resolvers.loyalty.program import LoyaltyProgram
from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LedgerResult, LoyaltyAccount
from resolvers.store import Store

log = logging.getLogger("omnigate.loyalty.expiry")

LEASE = "loyalty:expiry"
LEASE_TTL = timedelta(minutes=2)
#: The ``rule`` recorded on expiry entries.
EXPIRY_RULE = "inactivity"
#: Accounts read per store query, and the most one sweep expires (the next sweep goes on).
BATCH = 200
MAX_PER_SWEEP = 20_000


class ProgramConfig(Protocol):
    """What expiry reads of the resolver config (:class:`resolvers.config.ResolverConfig`,
    which imports this package, so it is named by shape)."""

    @property
    def loyalty(self) -> LoyaltyProgram: ...


class ExpiryServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventBus: ...

    @property
    def config(self) -> ProgramConfig: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def expires_at(account: LoyaltyAccount, program: LoyaltyProgram) -> datetime | None:
    """When the account's points lapse if nothing moves them before; ``None`` when nothing
    lapses (no expiry in the programme, no points)."""
    if program.expiry_days <= 0 or account.balance <= 0 or account.updated_at is None:
        return None
    return account.updated_at + timedelta(days=program.expiry_days)


def expiry_key(account: LoyaltyAccount) -> str:
    assert account.updated_at is not None
    return f"expire:{account.id}:{account.updated_at.isoformat()}"


def expiry_entry(account: LoyaltyAccount, program: LoyaltyProgram, now: datetime) -> LedgerEntry:
    assert account.updated_at is not None
    return LedgerEntry(
        key=expiry_key(account),
        account_id=account.id,
        points=-account.balance,
        kind=LedgerKind.EXPIRE,
        at=now,
        rule=EXPIRY_RULE,
        rate=str(program.expiry_days),
        actor="expiry",
        reason=(
            f"no points movement for {program.expiry_days} days "
            f"(last on {account.updated_at.date().isoformat()})"
        ),
    )


@dataclass(slots=True)
class ExpirySummary:
    #: Accounts found due.
    due: int = 0
    #: Accounts whose points lapsed, and how many points.
    expired: int = 0
    points: int = 0
    #: Accounts that moved (or were expired by someone else) between the read and the write.
    skipped: int = 0
    #: Another replica held the lease: this sweep did nothing.
    busy: bool = False


async def expire_once(
    services: ExpiryServices, now: datetime, *, batch: int = BATCH, limit: int = MAX_PER_SWEEP
) -> ExpirySummary:
    """Expire every due account (up to ``limit``), without the lease."""
    summary = ExpirySummary()
    program = services.config.loyalty
    if program.expiry_days <= 0:
        return summary
    ledger = services.store.ledger
    before = now - timedelta(days=program.expiry_days)
    while summary.due < limit:
        due = await ledger.inactive_accounts(before, limit=min(batch, limit - summary.due))
        for account in due:
            summary.due += 1
            if account.updated_at is None:  # pragma: no cover - the query requires one
                continue
            result, after = await ledger.apply_if_unmoved(
                expiry_entry(account, program, now),
                seen=account,
                below_zero=BelowZero.CLAMP,
            )
            if result is LedgerResult.APPLIED:
                summary.expired += 1
                summary.points += account.balance - after.balance
                account_changed(services, account.id)
            else:
                summary.skipped += 1
        if len(due) < batch:
            break
    return summary


async def sweep(
    services: ExpiryServices,
    *,
    holder: str = HOLDER,
    clock: Callable[[], datetime] = _utcnow,
) -> ExpirySummary:
    """One sweep under the lease (a sweep that finds it taken returns ``busy``)."""
    lease = Lease(services.store.leases, LEASE, holder, ttl=LEASE_TTL, clock=clock)
    if not await lease.acquire():
        return ExpirySummary(busy=True)
    async with lease:
        return await expire_once(services, clock())
