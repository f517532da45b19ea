"""Member and referral codes in the schema: ``customerByMemberCode`` at the counter and
``recordReferral`` at the till. The rules are :mod:`resolvers.loyalty.referrals` and
:mod:`resolvers.customers.member_codes`; this module maps arguments in and values out."""

from __future__ import annotations

import strawberry

from resolvers.context import RequestContext
from resolvers.customers.member_codes import customer_by_member_code, record_referral
from resolvers.loyalty.referrals import ReferralAtTill
from resolvers.viewer import Role
from schema.customers import Customer
from schema.loyalty import LoyaltyEntry
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]


@strawberry.type
class LoyaltyCodesQuery:
    @strawberry.field(
        description="The customer whose member code (scanned or typed; spaces, dashes and "
        "case do not matter) this is, or null. A store-bound staff token sees them as if found "
        "by exact email or phone: the code is shown by the customer. A merged-away member's "
        "code finds the profile they were merged into. Errors: BAD_USER_INPUT (not a code).",
        extensions=guarded(Role.STAFF, Role.INTERNAL),
    )
    async def customer_by_member_code(self, info: Info, code: str) -> Customer | None:
        served = await customer_by_member_code(info.context, code, path=tuple(info.path.as_list()))
        return Customer.of(served, exact_match=True) if served else None


@strawberry.type
class LoyaltyCodesMutation:
    @strawberry.mutation(
        description="A friend's referral code entered at the till for a new customer buying "
        "in store: both get the referral bonus, once (a retry returns the same entries, the "
        "referee's first). Staff at their own store, or internal. Errors: BAD_USER_INPUT (not "
        "a code, a member code, the customer's own code, not a new customer, already "
        "referred), NOT_FOUND (no such customer or referral code), FORBIDDEN.",
        extensions=guarded(Role.STAFF, Role.INTERNAL),
    )
    async def record_referral(
        self,
        info: Info,
        customer_id: strawberry.ID,
        code: str,
        location_id: strawberry.ID | None = None,
        order_ref: str | None = None,
    ) -> list[LoyaltyEntry]:
        claim = ReferralAtTill(
            customer_id=str(customer_id),
            code=code,
            location_id=str(location_id) if location_id is not None else None,
            order_ref=order_ref,
        )
        return [LoyaltyEntry.of(e) for e in await record_referral(info.context, claim)]
