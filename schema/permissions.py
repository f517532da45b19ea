"""Field permissions. Anonymous callers may read ``health`` (and, outside production,
``_service``) and nothing else."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from resolvers.context import RequestContext
from resolvers.viewer import Role


class IsAuthenticated(BasePermission):
    message = "A bearer token is required."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(
        self, source: Any, info: strawberry.Info[RequestContext, None], **kwargs: Any
    ) -> bool:
        return info.context.viewer.authenticated


class HasRole(BasePermission):
    message = "This token may not read this field."
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def has_permission(
        self, source: Any, info: strawberry.Info[RequestContext, None], **kwargs: Any
    ) -> bool:
        return info.context.viewer.role in self.roles


def requires(*roles: Role) -> list[BasePermission]:
    """Permissions for a field: authenticated first (so a missing token says so), then role."""
    return [IsAuthenticated(), HasRole(*roles)] if roles else [IsAuthenticated()]


def guarded(*roles: Role) -> list[FieldExtension]:
    """Field extensions for ``requires(*roles)``. No schema directives: they would leak into
    the SDL, and a federation gateway would have to know them."""
    return [PermissionExtension(requires(*roles), use_directives=False)]


class SdlNeedsToken(IsAuthenticated):
    message = "`_service` needs the router's bearer token (OMNIGATE_ROUTER_TOKEN) in production."


class RouterOrInternal(HasRole):
    message = "`_service` needs the router's token or an internal token."


def router_only() -> list[FieldExtension]:
    """Extensions for ``_service`` in production: the router's token, or an internal one."""
    return [
        PermissionExtension(
            [SdlNeedsToken(), RouterOrInternal(Role.ROUTER, Role.INTERNAL)],
            use_directives=False,
        )
    ]
