"""The customer at the counter by their member code, and a referral entered at the till.

A member code is shown by the person in front of the till (their app or wallet pass), like
an exact email or phone said out loud, so it shows a store-bound staff token that customer
even without activity at its stores (``customerLookup``'s rule for exact matches). A
referral code never finds anyone: it is given to friends.
"""

from __future__ import annotations

from resolvers.customers.ports import CustomerRequest
from resolvers.customers.queries import report_source_errors
from resolvers.customers.service import Served
from resolvers.customers.visibility import require_visible
from resolvers.errors import NotFound
from resolvers.loyalty import referrals
from resolvers.loyalty.code_index import owner_of, require_code
from resolvers.model import LedgerEntry
from resolvers.store.codes import CodePurpose


async def customer_by_member_code(
    ctx: CustomerRequest, code: str, *, path: tuple[str | int, ...] | None = None
) -> Served | None:
    """The customer whose member code this is (after merges: where they live now), or
    ``None`` for a code nobody holds; a malformed code is ``BAD_USER_INPUT``."""
    written = require_code(code)
    profile_id = await owner_of(ctx.services.store, written, CodePurpose.MEMBER)
    if profile_id is None:
        return None
    doc = (await ctx.services.store.profiles.get_profiles([profile_id])).get(profile_id)
    served = await ctx.services.customers.serve(doc, profile_id, ctx.loaders)
    if served is None:
        return None
    require_visible(ctx.viewer, served.profile, exact_match=True)
    report_source_errors(served, path)
    return served


async def record_referral(
    ctx: CustomerRequest, claim: referrals.ReferralAtTill
) -> list[LedgerEntry]:
    """A code entered by staff for the customer buying in store; the customer's orders (to
    tell whether they are new) come from their profile."""
    referrals.may_record(ctx.viewer, claim.location_id)
    doc = (await ctx.services.store.profiles.get_profiles([claim.customer_id])).get(
        claim.customer_id
    )
    served = await ctx.services.customers.serve(doc, claim.customer_id, ctx.loaders)
    if served is None:
        raise NotFound(
            f"No customer {claim.customer_id!r}.", extensions={"customerId": claim.customer_id}
        )
    return await referrals.record_referral(ctx.services, ctx.viewer, claim, served.profile.orders)
