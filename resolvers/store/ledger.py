"""The loyalty ledger port: append-only point movements and the account balances they add
up to, kept together so a balance never moves without its entry (nor the other way).

How one entry moves an account is decided here, once, by :func:`move` (both store
implementations call it inside their atomic step), so the memory store and MongoDB agree on
every rule:

- ``PENDING_EARN`` adds to ``pending`` only; an ``EARN`` whose ``settles`` names it (key
  ``settle:<pending key>``, so it happens once) moves the points from ``pending`` to
  ``balance``; a ``REFUND_CLAWBACK`` whose ``settles`` names it takes from ``pending``;
- a negative entry the balance does not cover is refused, clamped at zero with the rest
  recorded as ``shortfall``, or allowed below zero (:class:`~resolvers.model.BelowZero`);
- ``lifetime_earned`` counts earns, referral bonuses and positive adjustments, less what
  refunds clawed back; ``lifetime_redeemed`` counts redemptions, less their reversals.

So ``balance`` is always the sum of the settled entries' ``points`` and ``pending`` the sum
of the earns not settled yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LedgerResult, LoyaltyAccount

#: Kinds whose points are always positive, and always negative.
POSITIVE = frozenset(
    {
        LedgerKind.EARN,
        LedgerKind.PENDING_EARN,
        LedgerKind.REDEEM_REVERSAL,
        LedgerKind.REFERRAL_BONUS,
    }
)
NEGATIVE = frozenset({LedgerKind.REDEEM, LedgerKind.REFUND_CLAWBACK, LedgerKind.EXPIRE})
#: Kinds that count towards (or, negative, against) lifetime points.
EARNING = frozenset(
    {LedgerKind.EARN, LedgerKind.REFERRAL_BONUS, LedgerKind.ADJUST, LedgerKind.REFUND_CLAWBACK}
)


def settle_key(pending_key: str) -> str:
    """The one key of the entry that settles a pending earn: a second settlement is a
    duplicate, however many callers race."""
    return f"settle:{pending_key}"


def check(entry: LedgerEntry) -> None:
    """A malformed entry is a programming error, not a business outcome."""
    if entry.kind in POSITIVE and entry.points <= 0:
        raise ValueError(f"a {entry.kind.value} entry moves a positive number of points")
    if entry.kind in NEGATIVE and entry.points >= 0:
        raise ValueError(f"a {entry.kind.value} entry moves a negative number of points")
    if entry.kind is LedgerKind.ADJUST and (entry.points == 0 or not entry.reason):
        raise ValueError("an adjustment moves points and says why (reason)")
    settles = entry.settles
    if settles is not None and entry.kind is LedgerKind.EARN and entry.key != settle_key(settles):
        raise ValueError(f"the entry settling {settles} has the key {settle_key(settles)}")


@dataclass(frozen=True, slots=True)
class Movement:
    """An entry as it will be stored (the points it really moves) and the account after it."""

    entry: LedgerEntry
    account: LoyaltyAccount


def move(
    account: LoyaltyAccount | None,
    entry: LedgerEntry,
    *,
    below_zero: BelowZero,
    now: datetime,
) -> Movement | LedgerResult:
    """The account after ``entry``, or the refusal (``INSUFFICIENT_BALANCE``,
    ``NOT_PENDING``) that leaves it as it is. ``now`` is when the entry happened (its
    ``at``): the account's ``updated_at`` is its latest movement."""
    check(entry)
    base = account or LoyaltyAccount(id=entry.account_id)
    if entry.origin is None:
        entry = replace(entry, origin=entry.account_id)
    if entry.tier is not None:
        base = replace(base, tier=entry.tier)
    stamp = _later(base.updated_at, now)
    if from_pending(entry):
        if base.pending + entry.points < 0:
            return LedgerResult.NOT_PENDING
        pending = base.pending + entry.points
        return Movement(entry, replace(base, pending=pending, updated_at=stamp))
    if entry.kind is LedgerKind.EARN and entry.settles is not None:
        if base.pending < entry.points:
            return LedgerResult.NOT_PENDING
        return Movement(
            entry,
            replace(
                base,
                pending=base.pending - entry.points,
                balance=base.balance + entry.points,
                lifetime_earned=base.lifetime_earned + entry.points,
                updated_at=stamp,
            ),
        )
    points, shortfall = entry.points, 0
    if points < 0 and base.balance + points < 0:
        if below_zero is BelowZero.REFUSE:
            return LedgerResult.INSUFFICIENT_BALANCE
        if below_zero is BelowZero.CLAMP:
            taken = max(base.balance, 0)
            points, shortfall = -taken, -entry.points - taken
    stored = replace(entry, points=points, shortfall=shortfall)
    redeemed = 0
    if entry.kind in (LedgerKind.REDEEM, LedgerKind.REDEEM_REVERSAL):
        redeemed = -points
    return Movement(
        stored,
        replace(
            base,
            balance=base.balance + points,
            lifetime_earned=base.lifetime_earned + (points if entry.kind in EARNING else 0),
            lifetime_redeemed=base.lifetime_redeemed + redeemed,
            updated_at=stamp,
        ),
    )


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def from_pending(entry: LedgerEntry) -> bool:
    """Whether the entry moves ``pending`` (an earn in its window, or a clawback of one)
    rather than the balance."""
    return entry.kind is LedgerKind.PENDING_EARN or (
        entry.kind is LedgerKind.REFUND_CLAWBACK and entry.settles is not None
    )


def totals(account_id: str, entries: Iterable[LedgerEntry]) -> LoyaltyAccount:
    """The account its entries add up to: what a store's account must always equal, and
    what a move of entries between accounts (merge, unmerge) recomputes."""
    balance = pending = earned = redeemed = 0
    last: LedgerEntry | None = None
    tier: str | None = None
    for entry in sorted(entries, key=lambda e: e.at):
        last, tier = entry, entry.tier or tier
        if from_pending(entry):
            pending += entry.points
            continue
        if entry.kind is LedgerKind.EARN and entry.settles is not None:
            pending -= entry.points
        balance += entry.points
        if entry.kind in EARNING:
            earned += entry.points
        if entry.kind in (LedgerKind.REDEEM, LedgerKind.REDEEM_REVERSAL):
            redeemed -= entry.points
    return LoyaltyAccount(
        id=account_id,
        balance=balance,
        pending=pending,
        lifetime_earned=earned,
        lifetime_redeemed=redeemed,
        updated_at=last.at if last else None,
        tier=tier,
    )


class LedgerStore(Protocol):
    async def apply_ledger_entry(
        self, entry: LedgerEntry, *, below_zero: BelowZero = BelowZero.REFUSE
    ) -> tuple[LedgerResult, LoyaltyAccount]:
        """Append the entry and move the account, atomically, by :func:`move`.

        A repeated ``key`` has no second effect (``DUPLICATE``); a refusal writes nothing
        and does not consume the key. The entry as stored (the points a clamped clawback
        really took, its ``shortfall``) is :meth:`get_entry`'s.
        """
        ...

    async def get_entry(self, key: str) -> LedgerEntry | None: ...

    async def get_entries(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The entries stored under these keys (missing keys are left out)."""
        ...

    async def followers(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """For each key, the entry that ``follows`` it, if one does."""
        ...

    async def order_redemptions(
        self, account_id: str, order_refs: Sequence[str]
    ) -> list[LedgerEntry]:
        """The account's ``REDEEM`` entries made for these orders (``order_ref``)."""
        ...

    async def pending_accounts(self, limit: int = 500) -> list[LoyaltyAccount]:
        """Accounts with points still pending (the settlement sweep's work)."""
        ...

    async def move_entries(
        self, from_id: str, into_id: str, *, origins: Sequence[str] | None = None
    ) -> int:
        """Move ``from_id``'s entries (only those whose ``origin`` is one of ``origins``,
        when given) to ``into_id`` and recompute both accounts from their entries
        (:func:`totals`), atomically: a merge moves everything into the survivor, an unmerge
        moves back what came from the restored profiles. Returns how many moved."""
        ...

    async def get_account(self, account_id: str) -> LoyaltyAccount | None: ...

    async def ledger_entries(
        self, account_id: str, limit: int = 100, *, after: LedgerEntry | None = None
    ) -> list[LedgerEntry]:
        """Newest first (ties by key, descending); with ``after``, those that come after it
        in that order (the next page)."""
        ...

    async def anonymise_account(self, account_id: str, anonymous_id: str) -> int:
        """Re-key an erased person's ledger entries and account to ``anonymous_id`` and strip
        their ``meta``; the points history stays auditable without naming the person."""
        ...

    # --- expiry and cross-channel figures ---------------------------------------------------

    async def inactive_accounts(self, before: datetime, limit: int = 100) -> list[LoyaltyAccount]:
        """Accounts with points (``balance > 0``) whose last movement (``updated_at``) is
        older than ``before``, least recently moved first, at most ``limit``: the ones whose
        points are due to lapse."""
        ...

    async def apply_if_unmoved(
        self,
        entry: LedgerEntry,
        *,
        seen: LoyaltyAccount,
        below_zero: BelowZero = BelowZero.CLAMP,
    ) -> tuple[LedgerResult, LoyaltyAccount]:
        """:meth:`apply_ledger_entry`, in the same atomic step, only while the account still
        holds what ``seen`` (as read before) held: its ``balance``, ``pending`` and last
        movement (``updated_at``). An account that moved since (a racing earn or
        redemption) is left as it is (``MOVED``). Expiry writes through this, so the points
        of a member who just became active again never lapse."""
        ...

    async def loyalty_figures(self, since: datetime, until: datetime) -> LedgerFigures:
        """Points earned and redeemed per channel from ``since`` (inclusive) to ``until``
        (exclusive), and how many of the redeemed were earned in another channel (see
        :func:`figures`)."""
        ...


# --- cross-channel figures ------------------------------------------------------------------
#
# Both stores sum the entries per member and channel (memory over its entries, MongoDB in an
# aggregation pipeline) and hand the sums to :func:`figures`, so they agree on every rule.

#: Kinds that count as earned in a channel: what orders earned, less their refunds. The
#: ``EARN`` that settles a pending earn is not counted again (its ``PENDING_EARN`` was).
EARNED_IN_CHANNEL = frozenset(
    {LedgerKind.EARN, LedgerKind.PENDING_EARN, LedgerKind.REFUND_CLAWBACK}
)
#: Kinds that count as redeemed in a channel: redemptions, less their reversals (negated).
REDEEMED_IN_CHANNEL = frozenset({LedgerKind.REDEEM, LedgerKind.REDEEM_REVERSAL})


def earned_points(entry: LedgerEntry) -> int:
    """What ``entry`` adds to its channel's earned points (0 for other kinds)."""
    if entry.kind not in EARNED_IN_CHANNEL:
        return 0
    if entry.kind is LedgerKind.EARN and entry.settles is not None:
        return 0
    return entry.points


def redeemed_points(entry: LedgerEntry) -> int:
    """What ``entry`` adds to its channel's redeemed points (0 for other kinds)."""
    return -entry.points if entry.kind in REDEEMED_IN_CHANNEL else 0


@dataclass(frozen=True, slots=True)
class MemberChannel:
    """One member's sums in one channel (``None``: entries that name no channel)."""

    channel: str | None
    #: Net earned from ``since`` to ``until``.
    earned: int = 0
    #: Net earned at any time before ``until``: what redemptions of the period can draw on.
    earned_before: int = 0
    #: Net redeemed from ``since`` to ``until``.
    redeemed: int = 0


@dataclass(frozen=True, slots=True)
class ChannelPoints:
    channel: str | None
    points: int


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    since: datetime
    until: datetime
    #: Net points earned per channel in the period, by channel name (``None`` last).
    earned_by_channel: tuple[ChannelPoints, ...]
    #: Net points redeemed per channel in the period.
    redeemed_by_channel: tuple[ChannelPoints, ...]
    #: Redeemed points of the period in a named channel, each member's counted at most up
    #: to what they redeemed net (the share's denominator).
    redeemed_points: int
    #: Of those, the points the member had earned in another channel (the numerator).
    cross_channel_points: int

    @property
    def cross_channel_share(self) -> float:
        if self.redeemed_points <= 0:
            return 0.0
        return self.cross_channel_points / self.redeemed_points


def cross_channel(member: Sequence[MemberChannel]) -> tuple[int, int]:
    """(redeemed, of which earned elsewhere) for one member.

    Only named channels take part. Each channel's net redemptions of the period (0 if net
    negative) draw first on what the member earned before ``until`` in the *other* channels,
    in channel-name order, each earned point used once; what those do not cover counts as
    same-channel. With the two channels Omnigate records (``online``, ``in_store``) this is
    ``min(redeemed online, earned in store) + min(redeemed in store, earned online)``.
    """
    named = sorted((m for m in member if m.channel is not None), key=lambda m: str(m.channel))
    left = {m.channel: max(m.earned_before, 0) for m in named}
    redeemed = cross = 0
    for spent in named:
        want = max(spent.redeemed, 0)
        redeemed += want
        for other in named:
            if other.channel == spent.channel or want == 0:
                continue
            take = min(want, left[other.channel])
            left[other.channel] -= take
            want -= take
            cross += take
    return redeemed, cross


def figures(
    members: Iterable[Sequence[MemberChannel]], *, since: datetime, until: datetime
) -> LedgerFigures:
    """The figures from each member's per-channel sums (one sequence per member)."""
    earned: dict[str | None, int] = {}
    redeemed_by: dict[str | None, int] = {}
    redeemed = cross = 0
    for member in members:
        for row in member:
            if row.earned:
                earned[row.channel] = earned.get(row.channel, 0) + row.earned
            if row.redeemed:
                redeemed_by[row.channel] = redeemed_by.get(row.channel, 0) + row.redeemed
        spent, elsewhere = cross_channel(member)
        redeemed += spent
        cross += elsewhere
    return LedgerFigures(
        since=since,
        until=until,
        earned_by_channel=_by_channel(earned),
        redeemed_by_channel=_by_channel(redeemed_by),
        redeemed_points=redeemed,
        cross_channel_points=cross,
    )


def _by_channel(points: dict[str | None, int]) -> tuple[ChannelPoints, ...]:
    order = sorted(points, key=lambda c: (c is None, c or ""))
    return tuple(ChannelPoints(channel, points[channel]) for channel in order)
