"""Loyalty in the schema: ``Customer.loyalty`` (balance, pending, lifetime points and the
ledger behind them), ``redeemPoints``, ``reverseRedemption`` and ``adjustPoints``. Who may do
what is :mod:`resolvers.loyalty.points`; this module maps arguments in and entries out."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import strawberry

from connectors.records import OrderRecord
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, check_page_size
from resolvers.loyalty import codes, earning
from resolvers.loyalty import points as loyalty
from resolvers.loyalty.expiry import expires_at
from resolvers.loyalty.program import LoyaltyProgram, Tier
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


@strawberry.type(description="A level of the programme, reached on qualifying spend.")
class LoyaltyTier:
    name: str
    threshold: Decimal = strawberry.field(
        description="Qualifying spend (net paid, all channels, rolling 12 months) from which "
        "a member is in this tier."
    )
    multiplier: Decimal = strawberry.field(description="What orders earn, times the earn rate.")

    @classmethod
    def of(cls, tier: Tier) -> LoyaltyTier:
        return cls(name=tier.name, threshold=tier.threshold, multiplier=tier.multiplier)


@strawberry.type(description="The programme's rules, the same in every channel.")
class LoyaltyProgramView:
    tiers: list[LoyaltyTier]
    earn_rate: Decimal = strawberry.field(
        description="Points per currency unit of an order's net paid amount, before the "
        "tier's multiplier."
    )
    return_window_days: int = strawberry.field(
        description="Days an order's points stay pending before they can be spent."
    )
    expiry_days: int = strawberry.field(
        description="Points lapse after this many days without a movement (0: never)."
    )
    referral_bonus: int = strawberry.field(description="Points each side of a referral gets.")

    @classmethod
    def of(cls, program: LoyaltyProgram) -> LoyaltyProgramView:
        return cls(
            tiers=[LoyaltyTier.of(t) for t in program.tiers],
            earn_rate=program.earn_rate,
            return_window_days=program.return_window_days,
            expiry_days=program.expiry_days,
            referral_bonus=program.referral_bonus,
        )


@strawberry.type(description="A member's points: always the sum of the ledger below.")
class Loyalty:
    customer_id: strawberry.Private[str]
    standing: strawberry.Private[earning.Standing]
    points: int = strawberry.field(description="Spendable now, in any channel.")
    pending_points: int = strawberry.field(
        description="Earned, held back until the return window ends."
    )
    lifetime_points: int = strawberry.field(
        description="Ever earned, less what refunds clawed back."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the points lapse unless they move before (earned or spent); null "
        "with no points or when points never lapse."
    )

    @strawberry.field(
        description="Shown at the till as a QR code or barcode; customerByMemberCode finds it."
    )
    def member_code(self) -> str:
        return codes.member_code(self.customer_id)

    @classmethod
    def of(
        cls, account: LoyaltyAccount, standing: earning.Standing, program: LoyaltyProgram
    ) -> Loyalty:
        return cls(
            customer_id=account.id,
            standing=standing,
            points=account.balance,
            pending_points=account.pending,
            lifetime_points=account.lifetime_earned,
            expires_at=expires_at(account, program),
        )

    @strawberry.field(
        description="The tier now, on the qualifying spend of the last 12 months (net paid, "
        "every channel)."
    )
    def tier(self) -> LoyaltyTier:
        return LoyaltyTier.of(self.standing.tier)

    @strawberry.field(description="The next tier up; null at the top.")
    def next_tier(self) -> LoyaltyTier | None:
        nxt = self.standing.next_tier
        return None if nxt is None else LoyaltyTier.of(nxt)

    @strawberry.field(description="Qualifying spend still needed for the next tier.")
    def spend_to_next_tier(self) -> Decimal | None:
        return self.standing.spend_to_next_tier

    @strawberry.field(description="Qualifying spend of the last 12 months.")
    def qualifying_spend(self) -> Decimal:
        return self.standing.spend

    @strawberry.field(
        description="The ledger, newest first. `after`: the `id` of the last entry of the "
        "previous page."
    )
    async def history(
        self, info: Info, first: int = 20, after: strawberry.ID | None = None
    ) -> list[LoyaltyEntry]:
        check_page_size(first, info.context.services.config.max_page_size)
        ledger = info.context.services.store.ledger
        mark = None
        if after is not None:
            mark = await ledger.get_entry(str(after))
            if mark is None or mark.account_id != self.customer_id:
                raise BadUserInput(
                    "after is not an entry of this ledger", extensions={"argument": "after"}
                )
        entries = await ledger.ledger_entries(self.customer_id, limit=first, after=mark)
        return [LoyaltyEntry.of(e) for e in entries]


async def customer_loyalty(info: Info, customer_id: str, orders: Sequence[OrderRecord]) -> Loyalty:
    services = info.context.services
    standing = earning.standing(services.config.loyalty, orders, datetime.now(UTC))
    account = await loyalty.account(services, customer_id)
    return Loyalty.of(account, standing, services.config.loyalty)


@strawberry.type
class LoyaltyQuery:
    @strawberry.field(
        description="The loyalty programme's rules: tiers, earn rate, return window.",
        extensions=guarded(Role.STOREFRONT, Role.STAFF, Role.INTERNAL),
    )
    def loyalty_program(self, info: Info) -> LoyaltyProgramView:
        return LoyaltyProgramView.of(info.context.services.config.loyalty)


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
