"""``viewer``: who the token says the caller is."""

from __future__ import annotations

import enum

import strawberry

from resolvers.context import RequestContext
from resolvers.customers.queries import get_customer
from resolvers.errors import Unauthenticated
from schema.customers import Customer
from schema.permissions import guarded


@strawberry.enum
class ViewerRole(enum.Enum):
    ANONYMOUS = "anonymous"
    STOREFRONT = "storefront"
    STAFF = "staff"
    INTERNAL = "internal"
    ROUTER = "router"


@strawberry.type(name="Viewer")
class ViewerType:
    role: ViewerRole
    location_ids: list[str] = strawberry.field(
        description='Stores a staff token is bound to; `["*"]` for every store.'
    )

    @strawberry.field(
        description="The storefront's own customer, named by a signed customer token "
        "(`X-Customer-Token`). Null without one."
    )
    async def customer(self, info: strawberry.Info[RequestContext, None]) -> Customer | None:
        viewer = info.context.viewer
        if viewer.customer_token_presented and viewer.customer_id is None:
            raise Unauthenticated("the customer token is invalid or expired")
        if viewer.customer_id is None:
            return None
        served = await get_customer(
            info.context, viewer.customer_id, path=tuple(info.path.as_list())
        )
        return Customer.of(served) if served else None


@strawberry.type
class ViewerQuery:
    @strawberry.field(
        description="The caller as the bearer token identifies it.",
        extensions=guarded(),
    )
    def viewer(self, info: strawberry.Info[RequestContext, None]) -> ViewerType:
        viewer = info.context.viewer
        return ViewerType(
            role=ViewerRole(viewer.role.value), location_ids=sorted(viewer.location_ids)
        )
