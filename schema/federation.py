"""``_service { sdl }`` for production, where it needs the router's token.

Strawberry's federation schema adds its own open ``_service`` field unless the query type
defines one; in production :func:`schema.build.build_schema` adds this one instead, the same
field with a permission, so an anonymous caller cannot read the SDL while introspection is
off. ``_entities`` keeps its own guard (``Customer.resolve_reference``).
"""

from __future__ import annotations

import strawberry
from strawberry.printer import print_schema

from resolvers.context import RequestContext
from schema.permissions import router_only


@strawberry.type(name="_Service")
class Service:
    @strawberry.field
    def sdl(self, info: strawberry.Info[RequestContext, None]) -> str:
        return print_schema(info.schema)


@strawberry.type
class GuardedServiceQuery:
    @strawberry.field(name="_service", extensions=router_only())
    def service(self) -> Service:
        return Service()


__all__ = ["GuardedServiceQuery"]
