"""Internal operations on customers: merge, unmerge, refresh, erase."""

from __future__ import annotations

import strawberry

from resolvers.context import RequestContext
from resolvers.customers.operations import (
    erase_customer,
    merge_customers,
    refresh_customer,
    unmerge_customer,
)
from resolvers.viewer import Role
from schema.customers import Customer
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]
INTERNAL = guarded(Role.INTERNAL)


@strawberry.type
class EraseResult:
    customer_id: strawberry.ID
    identities_erased: int


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(
        description="Join customers into the first one; logged, and undone by unmergeCustomer.",
        extensions=INTERNAL,
    )
    async def merge_customers(self, info: Info, ids: list[strawberry.ID]) -> Customer:
        return Customer.of(await merge_customers(info.context, [str(i) for i in ids]))

    @strawberry.mutation(
        description="Undo the latest merge into this customer, restoring the profiles as "
        "they were. The resolver will not join them again on its own.",
        extensions=INTERNAL,
    )
    async def unmerge_customer(self, info: Info, id: strawberry.ID) -> list[Customer]:
        return [Customer.of(s) for s in await unmerge_customer(info.context, str(id))]

    @strawberry.mutation(description="Rebuild a profile from its sources now.", extensions=INTERNAL)
    async def refresh_customer(self, info: Info, id: strawberry.ID) -> Customer:
        return Customer.of(await refresh_customer(info.context, str(id)))

    @strawberry.mutation(
        description="Erase a person (GDPR/CCPA): profile, identities and cached data go, the "
        "email tool is asked to delete them, loyalty history is kept anonymised.",
        extensions=INTERNAL,
    )
    async def erase_customer(self, info: Info, id: strawberry.ID) -> EraseResult:
        count = await erase_customer(info.context, str(id))
        return EraseResult(customer_id=id, identities_erased=count)
