"""Referrals: a new customer who uses a member's referral code gives both of them
``referral_bonus`` points, once.

Two ways a code arrives: on an online order (a Shopify discount code; orders carry ordinary
discount codes too, so one that is not a referral code is ignored), found by
:func:`reward_referral` after a profile build; or typed in by staff at the till for a
customer buying in store (:func:`record_referral`).

The rules:

- *new* customer: online, the code must be on the person's first paid order (the earliest
  one not cancelled, with something to pay), in any channel; at the till, the person has no
  paid order older than :data:`SAME_SALE` (today's sale may already have reached the
  profile);
- once per referee, ever: the referee's entry is keyed ``referral:<referee>:referee`` and
  the referrer's ``referral:<referee>:referrer``, so replays and racing paths write each side
  once (the ledger's unique key). The referrer's side is written only for the referrer the
  stored referee entry names, so two paths naming different codes cannot pay two referrers;
- no self-referral: a code whose owner is (after merges) the referee earns nothing;
- a profile that someone already referred was merged into is referred already (checked
  before writing: a merge racing the first bonus could still pay twice, which is rare and
  visible in the ledger).

Nothing here knows GraphQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from connectors.records import Channel, OrderRecord, Source
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.loyalty.code_index import (
    current_profile,
    merged_into,
    owner_of,
    parse,
    require_code,
)
from resolvers.loyalty.program import LoyaltyProgram
from resolvers.model import LedgerEntry, LedgerKind, LedgerResult
from resolvers.store import Store
from resolvers.store.codes import CodePurpose
from resolvers.viewer import Role, Viewer

log = logging.getLogger("omnigate.loyalty")

#: At the till, orders this recent may be the sale the code is entered for.
SAME_SALE = timedelta(hours=24)
#: ``actor`` of the bonuses the online path writes (no token made them).
RESOLVER = "resolver"


class _Config(Protocol):
    @property
    def loyalty(self) -> LoyaltyProgram: ...


class ReferralServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def config(self) -> _Config: ...


def referee_key(referee_id: str) -> str:
    return f"referral:{referee_id}:referee"


def referrer_key(referee_id: str) -> str:
    return f"referral:{referee_id}:referrer"


@dataclass(frozen=True, slots=True)
class Referral:
    """One use of a referral code, as either path found it."""

    referee_id: str
    referrer_id: str
    code: str
    channel: str
    at: datetime
    actor: str | None
    location_id: str | None = None
    order_ref: str | None = None
    source: Source | None = None


def _paid(order: OrderRecord) -> bool:
    return order.paid and not order.cancelled and order.total.amount > Decimal(0)


def first_paid_order(orders: Sequence[OrderRecord]) -> OrderRecord | None:
    """The person's earliest paid order (ties by source and id, so every build agrees)."""
    paid = [o for o in orders if _paid(o)]
    return min(paid, key=lambda o: (o.created_at, str(o.source), o.id)) if paid else None


async def _referral_code(store: Store, typed: Sequence[str]) -> tuple[str, str] | None:
    """The first referral code among an order's codes, with its owner now."""
    for raw in typed:
        code = parse(raw)
        if code is None:
            continue
        owner = await owner_of(store, code, CodePurpose.REFERRAL)
        if owner is not None:
            return code, owner
    return None


async def _referred_before_merge(store: Store, referee_id: str) -> bool:
    """Whether someone merged into the referee already had their referral bonus: the merged
    profile is one person, who is referred once."""
    for other in await merged_into(store, referee_id):
        if await store.ledger.get_entry(referee_key(other)) is not None:
            return True
    return False


async def reward_referral(
    services: ReferralServices, account_id: str, orders: Sequence[OrderRecord]
) -> list[LedgerEntry]:
    """Given all of a person's orders (as the profile build sees them), pay both sides if
    the first paid order used a referral code. Idempotent: returns the entries this call
    wrote (none once both sides are paid). A self-referral is logged and ignored."""
    first = first_paid_order(orders)
    if first is None or not first.codes:
        return []
    found = await _referral_code(services.store, first.codes)
    if found is None:
        return []
    code, referrer = found
    if referrer == account_id:
        log.info("customer %s used their own referral code; no bonus", account_id)
        return []
    if await services.store.ledger.get_entry(referee_key(account_id)) is None and (
        await _referred_before_merge(services.store, account_id)
    ):
        return []
    referral = Referral(
        referee_id=account_id,
        referrer_id=referrer,
        code=code,
        channel=first.channel.value,
        at=datetime.now(UTC),
        actor=RESOLVER,
        location_id=first.location_id,
        order_ref=first.id,
        source=first.source,
    )
    written, _ = await _grant(services, referral)
    return written


@dataclass(frozen=True, slots=True)
class ReferralAtTill:
    """Staff enter a friend's code for the customer in front of them."""

    customer_id: str
    code: str
    location_id: str | None
    order_ref: str | None = None


def may_record(viewer: Viewer, location_id: str | None) -> None:
    """Staff at their own store (they name it), or internal."""
    if viewer.role is Role.INTERNAL:
        return
    if viewer.role is Role.STAFF and location_id is not None and viewer.works_at(location_id):
        return
    raise Forbidden(
        "Staff record a referral at their own stores: name the store (locationId).",
        extensions={"locationId": location_id},
    )


async def record_referral(
    services: ReferralServices,
    viewer: Viewer,
    claim: ReferralAtTill,
    orders: Sequence[OrderRecord],
    *,
    now: datetime | None = None,
) -> list[LedgerEntry]:
    """Pay both sides for a code entered at the till; ``orders`` are the customer's as their
    profile has them. Returns both entries as stored (the referee's first); a retry with the
    same code returns them again."""
    may_record(viewer, claim.location_id)
    code = require_code(claim.code)
    now = now or datetime.now(UTC)
    held = await services.store.codes.code_owner(code)
    if held is not None and held.purpose is CodePurpose.MEMBER:
        raise BadUserInput(
            "That is a member code (the till's card), not a referral code.",
            extensions={"argument": "code"},
        )
    referrer = await owner_of(services.store, code, CodePurpose.REFERRAL)
    if referrer is None:
        raise NotFound(f"No referral code {code}.", extensions={"code": code})
    if referrer == claim.customer_id or (
        await current_profile(services.store, claim.customer_id) == referrer
    ):
        raise BadUserInput(
            "A customer cannot use their own referral code.", extensions={"argument": "code"}
        )
    existing = await services.store.ledger.get_entry(referee_key(claim.customer_id))
    if existing is None and await _referred_before_merge(services.store, claim.customer_id):
        raise BadUserInput(
            "This customer already received a referral bonus (as a profile since merged).",
            extensions={"customerId": claim.customer_id},
        )
    if existing is None and any(_paid(o) and o.created_at < now - SAME_SALE for o in orders):
        raise BadUserInput(
            "Referrals are for new customers: this customer has paid for an earlier order.",
            extensions={"customerId": claim.customer_id},
        )
    referral = Referral(
        referee_id=claim.customer_id,
        referrer_id=referrer,
        code=code,
        channel=Channel.IN_STORE.value,
        at=now,
        actor=viewer.name,
        location_id=claim.location_id,
        order_ref=claim.order_ref,
    )
    _, stored = await _grant(services, referral)
    if stored and stored[0].meta.get("referrer") != referrer:
        raise BadUserInput(
            "This customer already received a referral bonus, for another code.",
            extensions={"customerId": claim.customer_id},
        )
    return stored


def _entry(referral: Referral, *, side: str, points: int) -> LedgerEntry:
    referee = side == "referee"
    return LedgerEntry(
        key=referee_key(referral.referee_id) if referee else referrer_key(referral.referee_id),
        account_id=referral.referee_id if referee else referral.referrer_id,
        points=points,
        kind=LedgerKind.REFERRAL_BONUS,
        at=referral.at,
        source=referral.source,
        channel=referral.channel,
        location_id=referral.location_id,
        order_ref=referral.order_ref,
        actor=referral.actor,
        reason=f"used referral code {referral.code}"
        if referee
        else f"referral code {referral.code} used by a new customer",
        meta={
            "referee": referral.referee_id,
            "referrer": referral.referrer_id,
            "code": referral.code,
        },
    )


async def _grant(
    services: ReferralServices, referral: Referral
) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    """Write the referee's side, then the referrer's for whoever the stored referee entry
    names. Returns (entries this call applied, the entries as stored)."""
    ledger = services.store.ledger
    points = services.config.loyalty.referral_bonus
    written: list[LedgerEntry] = []
    if points <= 0:  # the programme pays no referral bonus
        return written, []
    first = _entry(referral, side="referee", points=points)
    result, _ = await ledger.apply_ledger_entry(first)
    if result is LedgerResult.APPLIED:
        written.append(first)
    stored_first = await ledger.get_entry(first.key)
    if stored_first is None:  # pragma: no cover - written above or by a racing call
        raise RuntimeError(f"referral entry {first.key} missing after its write")
    if stored_first.meta.get("referrer") != referral.referrer_id:
        return written, [stored_first]
    second = _entry(referral, side="referrer", points=points)
    result, _ = await ledger.apply_ledger_entry(second)
    if result is LedgerResult.APPLIED:
        written.append(second)
    stored_second = await ledger.get_entry(second.key)
    if stored_second is None:  # pragma: no cover
        raise RuntimeError(f"referral entry {second.key} missing after its write")
    return written, [stored_first, stored_second]
