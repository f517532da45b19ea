"""Earning points from orders, settling them after the return window, and taking them back
when an order is refunded.

Whatever reports an order (its webhook, a sync, a request that rebuilt the profile), the
profile's rebuild hands every order of the person to :func:`accrue`, which brings the ledger
in line with them. It writes only what is missing, so any number of paths, replays and
concurrent rebuilds have one effect:

- each paid order earns once, under the key ``earn:<source>:order:<id>``: its paid total
  times the programme's rate times the multiplier of the tier the member held when they
  ordered (so every path computes the same points), as ``EARN``, or as ``PENDING_EARN``
  while the order is inside the return window;
- a pending earn settles (``EARN``, ``settle:<key>``) once its window has passed, here or in
  the settlement sweep (:func:`settle_due`);
- the refunded share of an order claws back that share of what it earned, at the rate on
  the earn entry (not today's), from ``pending`` if the earn has not settled, else from the
  balance (stopping at zero with the ``shortfall`` recorded, unless the programme allows a
  negative balance); and returns that share of any points redeemed on the order
  (``REDEEM_REVERSAL``).

An order's entries form a chain (each ``follows`` the one before; the store lets one entry
follow another only once), so two writers who read the same ledger cannot both claw back or
settle: the second is ``SUPERSEDED``, reads again and finds nothing left to do. A snapshot
older than what the ledger has seen (less refunded) writes nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from connectors.records import OrderRecord
from resolvers.loyalty.notify import NotifyServices, account_changed
from resolvers.loyalty.program import EARN_RULE, LoyaltyProgram, Tier, qualifying_spend
from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LedgerResult
from resolvers.store import Store
from resolvers.store.ledger import LedgerStore, settle_key

log = logging.getLogger("omnigate.loyalty")

#: Steps one chain may take in one call before it is left for the next (a guard against
#: a writer that keeps being overtaken, not a limit anyone reaches).
_STEPS = 16


class ProgramConfig(Protocol):
    @property
    def loyalty(self) -> LoyaltyProgram: ...


class LoyaltyServices(NotifyServices, Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def config(self) -> ProgramConfig: ...


def _announce(services: LoyaltyServices, written: Iterable[LedgerEntry]) -> None:
    for account_id in sorted({e.account_id for e in written}):
        account_changed(services, account_id)


def earn_key(order: OrderRecord) -> str:
    return f"earn:{order.source}:order:{order.id}"


def _now() -> datetime:
    return datetime.now(UTC)


def _paid_orders(orders: Iterable[OrderRecord]) -> dict[str, OrderRecord]:
    """The orders that can earn or be clawed back, one per key (a record repeated by two
    sources' reads counts once)."""
    unique: dict[str, OrderRecord] = {}
    for order in orders:
        if order.total.amount > 0 and order.paid:
            unique[earn_key(order)] = order
    return unique


def refunded_fraction(order: OrderRecord) -> Fraction:
    """How much of the order was given back (a cancelled order: all of it), exactly: a
    decimal quotient such as 1/28 would round, and 28 points times it fall a point short."""
    if order.cancelled:
        return Fraction(1)
    if order.refunded is None or order.refunded.currency != order.total.currency:
        return Fraction(0)
    share = Fraction(order.refunded.amount) / Fraction(order.total.amount)
    return min(max(share, Fraction(0)), Fraction(1))


def _share(points: int, fraction: Fraction) -> int:
    return math.floor(points * fraction)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands on the tier ladder now."""

    spend: Decimal
    tier: Tier
    next_tier: Tier | None

    @property
    def spend_to_next_tier(self) -> Decimal | None:
        return None if self.next_tier is None else self.next_tier.threshold - self.spend


def standing(program: LoyaltyProgram, orders: Iterable[OrderRecord], now: datetime) -> Standing:
    spend = qualifying_spend(orders, now)
    return Standing(spend, program.tier_for(spend), program.next_tier(spend))


async def accrue(
    services: LoyaltyServices,
    account_id: str,
    orders: Sequence[OrderRecord],
    *,
    now: datetime | None = None,
) -> list[LedgerEntry]:
    """Bring ``account_id``'s ledger in line with the person's ``orders`` (every order their
    sources report). Returns the entries this call wrote."""
    program = services.config.loyalty
    ledger = services.store.ledger
    now = now or _now()
    paid = _paid_orders(orders)
    if not paid:
        return []
    current = standing(program, orders, now).tier
    heads = await ledger.get_entries(list(paid))
    written: list[LedgerEntry] = []
    raced: list[str] = []
    for key, order in paid.items():
        if key in heads or order.cancelled:
            continue
        entry = _earn_entry(program, account_id, order, orders, current, now)
        if entry is None:
            continue
        result, _ = await ledger.apply_ledger_entry(entry)
        if result is LedgerResult.APPLIED:
            written.append(entry)
            heads[key] = entry
        else:
            raced.append(key)
    if raced:
        heads.update(await ledger.get_entries(raced))
    chains = await _chains(ledger, list(heads.values()))
    for key, head in heads.items():
        order = paid[key]
        written += await _advance(
            ledger,
            program,
            head,
            chain=chains[key],
            now=now,
            fraction=refunded_fraction(order),
            label=_refund_label(order),
            order_refs=[r for r in (order.id, order.name) if r],
            tier=current.name,
        )
    _announce(services, written)
    return written


def _earn_entry(
    program: LoyaltyProgram,
    account_id: str,
    order: OrderRecord,
    orders: Sequence[OrderRecord],
    current: Tier,
    now: datetime,
) -> LedgerEntry | None:
    held = program.tier_for(qualifying_spend(orders, order.created_at))
    rate = program.rate(held)
    points = program.points(order.total.amount, rate)
    if points <= 0:
        return None
    # No window, no pending: a vendor clock a little ahead of ours must not hold points back.
    pending = program.return_window_days > 0 and now < order.created_at + program.return_window
    return LedgerEntry(
        key=earn_key(order),
        account_id=account_id,
        points=points,
        kind=LedgerKind.PENDING_EARN if pending else LedgerKind.EARN,
        at=now,
        source=order.source,
        channel=order.channel.value,
        location_id=order.location_id,
        order_ref=order.id,
        rule=EARN_RULE,
        rate=str(rate),
        actor="omnigate",
        reason=f"order {order.name or order.id}, {order.total.amount} {order.total.currency} "
        f"at {held.name} ({rate} points per unit)",
        tier=current.name,
        meta={
            "amount": str(order.total.amount),
            "currency": order.total.currency,
            "ordered_at": order.created_at.isoformat(),
            "settles_at": (order.created_at + program.return_window).isoformat(),
            "tier_at_order": held.name,
        },
    )


def _refund_label(order: OrderRecord) -> str:
    if order.cancelled:
        return "cancelled"
    return str(order.refunded.amount) if order.refunded is not None else "0"


async def _chains(
    ledger: LedgerStore, heads: Sequence[LedgerEntry]
) -> dict[str, list[LedgerEntry]]:
    """Each head's chain, read a link at a time for all of them together (most orders'
    chain is the earn alone: one call)."""
    chains = {head.key: [head] for head in heads}
    open_ = dict(chains)
    while open_:
        following = await ledger.followers([chain[-1].key for chain in open_.values()])
        still: dict[str, list[LedgerEntry]] = {}
        for key, chain in open_.items():
            nxt = following.get(chain[-1].key)
            if nxt is not None:
                chain.append(nxt)
                still[key] = chain
        open_ = still
    return chains


async def _chain(ledger: LedgerStore, head: LedgerEntry) -> list[LedgerEntry]:
    return (await _chains(ledger, [head]))[head.key]


def _due(head: LedgerEntry, now: datetime) -> bool:
    settles_at = head.meta.get("settles_at")
    return settles_at is None or datetime.fromisoformat(settles_at) <= now


async def _advance(
    ledger: LedgerStore,
    program: LoyaltyProgram,
    head: LedgerEntry,
    *,
    now: datetime,
    fraction: Fraction | None,
    label: str,
    chain: list[LedgerEntry] | None = None,
    order_refs: Sequence[str] = (),
    tier: str | None = None,
) -> list[LedgerEntry]:
    """Take the next steps of one earn's chain (clawback, settlement) until none is left;
    then return the refunded share of the order's redemptions. ``fraction`` ``None``: the
    refund state is not known (the settlement sweep) and nothing is clawed back."""
    written: list[LedgerEntry] = []
    chain = chain or await _chain(ledger, head)
    for _ in range(_STEPS):
        entry = _next_step(program, chain, now=now, fraction=fraction, label=label, tier=tier)
        if entry is None:
            break
        below = BelowZero.ALLOW if program.allow_negative else BelowZero.CLAMP
        result, _ = await ledger.apply_ledger_entry(entry, below_zero=below)
        if result is LedgerResult.APPLIED:
            stored = await ledger.get_entry(entry.key)
            chain.append(stored or entry)
            written.append(stored or entry)
        elif result in (LedgerResult.SUPERSEDED, LedgerResult.DUPLICATE):
            chain = await _chain(ledger, head)
        else:  # NOT_PENDING: the account's pending no longer holds this earn's points
            log.error("ledger chain of %s cannot take %s: %s", head.key, entry.key, result)
            break
    if fraction:
        written += await _return_redeemed(ledger, head.account_id, order_refs, fraction, label)
    return written


def _next_step(
    program: LoyaltyProgram,
    chain: list[LedgerEntry],
    *,
    now: datetime,
    fraction: Fraction | None,
    label: str,
    tier: str | None,
) -> LedgerEntry | None:
    head, tail = chain[0], chain[-1]
    clawbacks = [e for e in chain if e.kind is LedgerKind.REFUND_CLAWBACK]
    clawed = sum(-e.points + e.shortfall for e in clawbacks)
    settled = any(e.kind is LedgerKind.EARN and e.settles == head.key for e in chain)
    pending = head.kind is LedgerKind.PENDING_EARN and not settled
    common = {
        "account_id": head.account_id,
        "at": now,
        "source": head.source,
        "channel": head.channel,
        "location_id": head.location_id,
        "order_ref": head.order_ref,
        "rule": head.rule,
        "rate": head.rate,
        "actor": "omnigate",
        "follows": tail.key,
        "tier": tier,
    }
    if fraction is not None:
        owed = _share(head.points, fraction) - clawed
        if owed > 0:
            return LedgerEntry(
                key=f"clawback:{head.key}:{label}",
                points=-owed,
                kind=LedgerKind.REFUND_CLAWBACK,
                reason=f"order {head.order_ref} refunded ({label}): {owed} of the "
                f"{head.points} points it earned at {head.rate} per unit",
                settles=head.key if pending else None,
                **common,  # type: ignore[arg-type]
            )
    if pending and _due(head, now):
        remaining = head.points - clawed
        if remaining > 0:
            return LedgerEntry(
                key=settle_key(head.key),
                points=remaining,
                kind=LedgerKind.EARN,
                reason=f"order {head.order_ref}: return window over",
                settles=head.key,
                **common,  # type: ignore[arg-type]
            )
    return None


async def _return_redeemed(
    ledger: LedgerStore,
    account_id: str,
    order_refs: Sequence[str],
    fraction: Fraction,
    label: str,
) -> list[LedgerEntry]:
    """A refund of an order paid partly with points gives back that share of the points."""
    written: list[LedgerEntry] = []
    for redeemed in await ledger.order_redemptions(account_id, order_refs):
        for _ in range(_STEPS):
            chain = await _chain(ledger, redeemed)
            returned = sum(e.points for e in chain if e.kind is LedgerKind.REDEEM_REVERSAL)
            owed = _share(-redeemed.points, fraction) - returned
            if owed <= 0:
                break
            entry = LedgerEntry(
                key=f"reverse:{redeemed.key}:refund:{label}",
                account_id=redeemed.account_id,
                points=owed,
                kind=LedgerKind.REDEEM_REVERSAL,
                at=_now(),
                channel=redeemed.channel,
                location_id=redeemed.location_id,
                order_ref=redeemed.order_ref,
                actor="omnigate",
                reason=f"order {redeemed.order_ref} refunded ({label}): points paid back",
                settles=redeemed.key,
                follows=chain[-1].key,
            )
            result, _ = await ledger.apply_ledger_entry(entry)
            if result is LedgerResult.APPLIED:
                written.append(entry)
                break
    return written


async def settle_due(services: LoyaltyServices, *, now: datetime | None = None) -> int:
    """Settle every pending earn whose return window has passed (the sweep for members
    whose profile nobody rebuilds meanwhile). Returns how many settled."""
    ledger = services.store.ledger
    program = services.config.loyalty
    now = now or _now()
    settled = 0
    for account in await ledger.pending_accounts():
        entries = await ledger.ledger_entries(account.id, limit=10_000)
        keys = {e.key for e in entries}
        for head in entries:
            if head.kind is not LedgerKind.PENDING_EARN or settle_key(head.key) in keys:
                continue
            if not _due(head, now):
                continue
            steps = await _advance(ledger, program, head, now=now, fraction=None, label="")
            settled += sum(1 for e in steps if e.kind is LedgerKind.EARN)
            _announce(services, steps)
    return settled
