"""``viewer``: who the token says the caller is."""

from __future__ import annotations

import enum

import strawberry
from strawberry.permission import PermissionExtension

from resolvers.context import RequestContext
from schema.permissions import requires


@strawberry.enum
class ViewerRole(enum.Enum):
    ANONYMOUS = "anonymous"
    STOREFRONT = "storefront"
    STAFF = "staff"
    INTERNAL = "internal"


@strawberry.type(name="Viewer")
class ViewerType:
    role: ViewerRole
    location_ids: list[str] = strawberry.field(
        description='Stores a staff token is bound to; `["*"]` for every store.'
    )


@strawberry.type
class ViewerQuery:
    @strawberry.field(
        description="The caller as the bearer token identifies it.",
        extensions=[PermissionExtension(requires())],
    )
    def viewer(self, info: strawberry.Info[RequestContext, None]) -> ViewerType:
        viewer = info.context.viewer
        return ViewerType(
            role=ViewerRole(viewer.role.value), location_ids=sorted(viewer.location_ids)
        )
