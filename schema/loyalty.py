"""Loyalty in the schema: ``Customer.loyalty`` (balance, pending, lifetime points and the
ledger behind them), ``redeemPoints``, ``reverseRedemption`` and ``adjustPoints``. Who may do
what is :mod:`resolvers.loyalty.points`; this module maps arguments in and entries out."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from resolvers.context import RequestContext
from resolvers.errors import check_page_size
from resolvers.loyalty import codes
from resolvers.loyalty import points as loyalty
from resolvers.model import LedgerEntry, LoyaltyAccount
from resolvers.viewer import Role
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]


@strawberry.enum
class LoyaltyEntryKind(enum.Enum):
    EARN = "earn"
    PENDING_EARN = "pending_earn"
    REDEEM = "redeem"
    REDEEM_REVERSAL = "redeem_reversal"
    REFUND_CLAWBACK = "refund_clawback"
    ADJUST = "adjust"
    EXPIRE = "expire"
    REFERRAL_BONUS = "referral_bonus"


@strawberry.type(description="One movement of points, as the ledger keeps it: append-only.")
class LoyaltyEntry:
    id: strawberry.ID = strawberry.field(description="The entry's idempotency key.")
    kind: LoyaltyEntryKind
    points: int = strawberry.field(description="What moved: negative for spending.")
    at: datetime
    channel: str | None
    location_id: strawberry.ID | None
    order_ref: str | None
    reason: str | None
    actor: str | None = strawberry.field(description="The token that made it, by name.")
    shortfall: int = strawberry.field(
        description="Points a clawback could not take because the balance stopped at zero."
    )

    @classmethod
    def of(cls, e: LedgerEntry) -> LoyaltyEntry:
        return cls(
            id=strawberry.ID(e.key),
            kind=LoyaltyEntryKind(e.kind.value),
            points=e.points,
            at=e.at,
            channel=e.channel,
            location_id=strawberry.ID(e.location_id) if e.location_id else None,
            order_ref=e.order_ref,
            reason=e.reason,
            actor=e.actor,
            shortfall=e.shortfall,
        )


@strawberry.type(description="A member's points: always the sum of the ledger below.")
class Loyalty:
    customer_id: strawberry.Private[str]
    points: int = strawberry.field(description="Spendable now, in any channel.")
    pending_points: int = strawberry.field(
        description="Earned, held back until the return window ends."
    )
    lifetime_points: int = strawberry.field(
        description="Ever earned, less what refunds clawed back."
    )

    @strawberry.field(
        description="Shown at the till as a QR code or barcode; customerByMemberCode finds it."
    )
    def member_code(self) -> str:
        return codes.member_code(self.customer_id)

    @classmethod
    def of(cls, account: LoyaltyAccount) -> Loyalty:
        return cls(
            customer_id=account.id,
            points=account.balance,
            pending_points=account.pending,
            lifetime_points=account.lifetime_earned,
        )

    @strawberry.field(description="The ledger, newest first.")
    async def history(self, info: Info, first: int = 20) -> list[LoyaltyEntry]:
        check_page_size(first, info.context.services.config.max_page_size)
        entries = await info.context.services.store.ledger.ledger_entries(
            self.customer_id, limit=first
        )
        return [LoyaltyEntry.of(e) for e in entries]


async def customer_loyalty(info: Info, customer_id: str) -> Loyalty:
    return Loyalty.of(await loyalty.account(info.context.services, customer_id))


@strawberry.input
class RedeemPointsInput:
    customer_id: strawberry.ID
    points: int
    idempotency_key: str = strawberry.field(
        description="The till's or checkout's own id for this redemption: a retry with it "
        "returns the first answer and spends nothing more."
    )
    channel: str | None = None
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="The store it happens at (staff must name one of theirs)."
    )
    order_ref: str | None = None


@strawberry.type
class LoyaltyMutation:
    @strawberry.mutation(
        description="Spend points, in one atomic conditional write that never takes the "
        "balance below zero. Errors: INSUFFICIENT_POINTS, BAD_USER_INPUT, NOT_FOUND, FORBIDDEN.",
        extensions=guarded(Role.STOREFRONT, Role.STAFF, Role.INTERNAL),
    )
    async def redeem_points(self, info: Info, input: RedeemPointsInput) -> LoyaltyEntry:
        request = loyalty.Redemption(
            customer_id=str(input.customer_id),
            points=input.points,
            idempotency_key=input.idempotency_key,
            channel=input.channel,
            location_id=str(input.location_id) if input.location_id is not None else None,
            order_ref=input.order_ref,
        )
        entry = await loyalty.redeem(info.context.services, info.context.viewer, request)
        return LoyaltyEntry.of(entry)

    @strawberry.mutation(
        description="Give a redemption's points back (a cancelled sale), once. Errors: "
        "NOT_FOUND, FORBIDDEN.",
        extensions=guarded(Role.STAFF, Role.INTERNAL),
    )
    async def reverse_redemption(self, info: Info, entry_id: strawberry.ID) -> LoyaltyEntry:
        entry = await loyalty.reverse_redemption(
            info.context.services, info.context.viewer, str(entry_id)
        )
        return LoyaltyEntry.of(entry)

    @strawberry.mutation(
        description="Correct a balance, with a reason (internal only). Errors: "
        "INSUFFICIENT_POINTS, BAD_USER_INPUT, NOT_FOUND.",
        extensions=guarded(Role.INTERNAL),
    )
    async def adjust_points(
        self, info: Info, customer_id: strawberry.ID, points: int, reason: str
    ) -> LoyaltyEntry:
        entry = await loyalty.adjust(
            info.context.services, info.context.viewer, str(customer_id), points, reason
        )
        return LoyaltyEntry.of(entry)
