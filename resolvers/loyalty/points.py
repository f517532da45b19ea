"""Spending and correcting points: ``redeemPoints``, ``reverseRedemption``, ``adjustPoints``.

Each is one ledger entry written by the store's atomic step, keyed so a retry has one effect:

- a redemption's key is ``redeem:<customer>:<idempotencyKey>``: the same key returns the
  entry it wrote the first time, and a redemption the balance does not cover writes nothing
  (``INSUFFICIENT_POINTS``), however many tills race for the same points;
- a reversal's key is ``reverse:<redemption key>``: a cancelled sale gives its points back
  once;
- an adjustment (internal only) says why, and who made it.

Who may: internal, everything; staff redeem and reverse at their own stores (a redemption
names the store it happens at); a storefront redeems for its own signed-in customer only.
Nothing here knows GraphQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from connectors.records import Channel
from resolvers.errors import BadUserInput, Forbidden, NotFound, OmnigateError
from resolvers.events import EventBus
from resolvers.loyalty.notify import account_changed
from resolvers.model import LedgerEntry, LedgerKind, LedgerResult, LoyaltyAccount
from resolvers.store import Store
from resolvers.viewer import Role, Viewer

#: The most points one redemption or adjustment may move (a typo guard, not a rule).
MAX_POINTS = 1_000_000
#: Reversals of one redemption overtaken by a racing refund before one gives up.
_ATTEMPTS = 8


class InsufficientPoints(OmnigateError):
    code = "INSUFFICIENT_POINTS"


class PointsServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventBus: ...


@dataclass(frozen=True, slots=True)
class Redemption:
    customer_id: str
    points: int
    idempotency_key: str
    channel: str | None = None
    location_id: str | None = None
    order_ref: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _check_points(points: int, *, signed: bool = False) -> None:
    if (points == 0 if signed else points <= 0) or abs(points) > MAX_POINTS:
        what = "a non-zero number" if signed else "a positive number"
        raise BadUserInput(
            f"points must be {what} up to {MAX_POINTS}", extensions={"argument": "points"}
        )


async def _member(services: PointsServices, customer_id: str) -> None:
    """Points belong to unified customers: an unknown id is ``NOT_FOUND``."""
    if not await services.store.profiles.get_profiles([customer_id]):
        raise NotFound(f"No customer {customer_id!r}.", extensions={"customerId": customer_id})


def _may_redeem(viewer: Viewer, customer_id: str, location_id: str | None) -> None:
    if viewer.role is Role.INTERNAL:
        return
    if viewer.role is Role.STAFF:
        if location_id is None or not viewer.works_at(location_id):
            raise Forbidden(
                "Staff redeem points at their own stores: name the store (locationId).",
                extensions={"locationId": location_id},
            )
        return
    if viewer.role is Role.STOREFRONT and viewer.customer_id == customer_id:
        return
    raise Forbidden(
        "A storefront redeems points for its own signed-in customer only.",
        extensions={"customerId": customer_id},
    )


def _channel_of(viewer: Viewer) -> str | None:
    """Where a redemption happens when the caller does not say: at a till (staff) or at an
    online checkout (a storefront)."""
    if viewer.role is Role.STAFF:
        return Channel.IN_STORE.value
    if viewer.role is Role.STOREFRONT:
        return Channel.ONLINE.value
    return None


async def redeem(services: PointsServices, viewer: Viewer, request: Redemption) -> LedgerEntry:
    _check_points(request.points)
    if not request.idempotency_key.strip():
        raise BadUserInput(
            "a redemption needs an idempotencyKey (retries return the first answer)",
            extensions={"argument": "idempotencyKey"},
        )
    _may_redeem(viewer, request.customer_id, request.location_id)
    await _member(services, request.customer_id)
    entry = LedgerEntry(
        key=f"redeem:{request.customer_id}:{request.idempotency_key}",
        account_id=request.customer_id,
        points=-request.points,
        kind=LedgerKind.REDEEM,
        at=_now(),
        channel=request.channel or _channel_of(viewer),
        location_id=request.location_id,
        order_ref=request.order_ref,
        actor=viewer.name,
    )
    return await _write(services, entry, "redeem")


async def reverse_redemption(
    services: PointsServices, viewer: Viewer, entry_id: str
) -> LedgerEntry:
    ledger = services.store.ledger
    redeemed = await ledger.get_entry(entry_id)
    if redeemed is None or redeemed.kind is not LedgerKind.REDEEM:
        raise NotFound(f"No redemption {entry_id!r}.", extensions={"entryId": entry_id})
    if viewer.role is not Role.INTERNAL and not (
        viewer.role is Role.STAFF and viewer.works_at(redeemed.location_id)
    ):
        raise Forbidden(
            "A redemption is reversed by staff of the store it was made at, or internally.",
            extensions={"entryId": entry_id},
        )
    key = f"reverse:{redeemed.key}"
    for _ in range(_ATTEMPTS):
        done = await ledger.get_entry(key)
        if done is not None:
            return done
        chain = [redeemed]
        while following := (await ledger.followers([chain[-1].key])).get(chain[-1].key):
            chain.append(following)
        returned = sum(e.points for e in chain if e.kind is LedgerKind.REDEEM_REVERSAL)
        if returned >= -redeemed.points:
            raise BadUserInput(
                "A refund of its order already gave these points back.",
                extensions={"entryId": entry_id, "returned": returned},
            )
        entry = LedgerEntry(
            key=key,
            account_id=redeemed.account_id,
            points=-redeemed.points - returned,
            kind=LedgerKind.REDEEM_REVERSAL,
            at=_now(),
            channel=redeemed.channel,
            location_id=redeemed.location_id,
            order_ref=redeemed.order_ref,
            actor=viewer.name,
            reason="sale cancelled",
            settles=redeemed.key,
            follows=chain[-1].key,
        )
        result, _ = await ledger.apply_ledger_entry(entry)
        if result is LedgerResult.APPLIED:
            account_changed(services, entry.account_id)
        if result is not LedgerResult.SUPERSEDED:
            return await _stored(services, key, "reverse")
    raise OmnigateError(f"the reversal of {entry_id} kept being overtaken; try again")


async def adjust(
    services: PointsServices, viewer: Viewer, customer_id: str, points: int, reason: str
) -> LedgerEntry:
    if viewer.role is not Role.INTERNAL:
        raise Forbidden("Only an internal token adjusts points.")
    _check_points(points, signed=True)
    if not reason.strip():
        raise BadUserInput("an adjustment says why (reason)", extensions={"argument": "reason"})
    await _member(services, customer_id)
    entry = LedgerEntry(
        key=f"adjust:{customer_id}:{uuid.uuid4().hex}",
        account_id=customer_id,
        points=points,
        kind=LedgerKind.ADJUST,
        at=_now(),
        actor=viewer.name,
        reason=reason.strip(),
    )
    return await _write(services, entry, "adjust")


async def _write(services: PointsServices, entry: LedgerEntry, what: str) -> LedgerEntry:
    ledger = services.store.ledger
    result, account = await ledger.apply_ledger_entry(entry)
    if result is LedgerResult.APPLIED:
        account_changed(services, entry.account_id)
    if result is LedgerResult.INSUFFICIENT_BALANCE:
        raise InsufficientPoints(
            f"The balance ({account.balance} points) does not cover {-entry.points}.",
            extensions={"balance": account.balance},
        )
    return await _stored(services, entry.key, what)


async def _stored(services: PointsServices, key: str, what: str) -> LedgerEntry:
    stored = await services.store.ledger.get_entry(key)
    if stored is None:  # pragma: no cover - the write above or a racing one stored it
        raise OmnigateError(f"the {what} entry {key} is missing after its write")
    return stored


async def account(services: PointsServices, customer_id: str) -> LoyaltyAccount:
    found = await services.store.ledger.get_account(customer_id)
    return found or LoyaltyAccount(id=customer_id)
