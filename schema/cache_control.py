"""``Cache-Control`` for answers a shared cache may keep: public stock, locations, the catalog
and the loyalty programme's rules, never anything about a person.

Each type a query may touch is listed with the freshness class of its data; a query whose
every selected field (fragments included) is on a listed type, from a listed root field, and
that answered without errors, may be cached for the shortest max-age among the classes it
touched. Anything else (a customer, a hold, a mutation, an error, introspection) is
``no-store``. The answer still depends on who asks (a staff token sees stores a storefront
does not), so it varies by the credential headers: a CDN keys it per storefront token, which
every visitor of that storefront shares. Staff and internal callers, and a storefront that
sent a customer token, get ``private``: their browser may keep the answer, a shared cache
may not.

Only GET requests are kept by HTTP caches; the header on a POST answer tells a client-side
cache the same thing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from starlette.datastructures import MutableHeaders
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from resolvers.viewer import Role

NO_STORE = "no-store"
#: Operation texts whose max-age is remembered (as many as the parser cache keeps).
KNOWN_DOCUMENTS = 256
#: The credential headers an answer varies by (``gateway.auth`` reads them).
VARY = "Authorization, X-Customer-Token"


@dataclass(frozen=True, slots=True)
class CacheAges:
    """Seconds a shared cache may keep each class of public data; 0 turns caching off."""

    stock: int = 5
    catalog: int = 60
    locations: int = 300
    program: int = 300


#: Root fields whose answers are public, and the class each belongs to.
ROOT_FIELDS: dict[str, str] = {
    "stock": "stock",
    "productVariant": "catalog",
    "productVariants": "catalog",
    "locations": "locations",
    "location": "locations",
    "loyaltyProgram": "program",
}
#: Types every field of which is public, and their class (``None``: takes its parent's).
PUBLIC_TYPES: dict[str, str | None] = {
    "StockLevel": "stock",
    "ProductVariant": "catalog",
    "ProductVariantConnection": None,
    "ProductVariantEdge": None,
    "PageInfo": None,
    "Money": None,
    "Location": "locations",
    "Address": None,
    "LoyaltyProgramView": "program",
    "LoyaltyTier": None,
}


def max_age(schema: GraphQLSchema, document: DocumentNode, ages: CacheAges) -> int | None:
    """Seconds the answer to ``document``'s query may be kept, or ``None`` when it touches
    anything that is not public."""
    classes: set[str] = set()
    type_info = TypeInfo(schema)
    verdict = _Collector(type_info, classes)
    visit(document, TypeInfoVisitor(type_info, verdict))
    if verdict.private or not classes:
        return None
    return min(getattr(ages, name) for name in classes)


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo, classes: set[str]) -> None:
        super().__init__()
        self.type_info = type_info
        self.classes = classes
        self.private = False

    def enter_operation_definition(self, node: Any, *_: Any) -> None:
        if node.operation is not OperationType.QUERY:
            self.private = True

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        name = node.name.value
        if name == "__typename":
            return
        parent = self.type_info.get_parent_type()
        parent_name = parent.name if parent is not None else None
        if parent_name == "Query" and name in ROOT_FIELDS:
            self.classes.add(ROOT_FIELDS[name])
        elif parent_name not in PUBLIC_TYPES:
            self.private = True  # a person, a hold, introspection, an unknown field
            return
        field_type = self.type_info.get_type()
        named = get_named_type(field_type) if field_type is not None else None
        if named is not None and (kind := PUBLIC_TYPES.get(named.name)) is not None:
            self.classes.add(kind)


def header(seconds: int | None, role: Role, customer_token: bool) -> str:
    if not seconds:
        return NO_STORE
    shared = role in (Role.ANONYMOUS, Role.STOREFRONT) and not customer_token
    return f"{'public' if shared else 'private'}, max-age={seconds}"


def cache_control(ages: CacheAges) -> type[SchemaExtension]:
    """An extension class (strawberry builds one per operation) that sets the header on the
    HTTP response of every operation, refused ones included (nothing on a WebSocket).

    A document's max-age depends on its text alone, so it is worked out once per text (the
    walk costs about as much as a tenth of a warm 360) and kept for the most recent texts,
    as the parser cache keeps their documents."""
    known: OrderedDict[str, int | None] = OrderedDict()

    def document_max_age(context: ExecutionContext) -> int | None:
        text = context.query
        if text is not None and text in known:
            known.move_to_end(text)
            return known[text]
        assert context.graphql_document is not None
        seconds = max_age(context.schema._schema, context.graphql_document, ages)
        if text is not None:
            known[text] = seconds
            if len(known) > KNOWN_DOCUMENTS:
                known.popitem(last=False)
        return seconds

    class CacheControl(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield
            context = self.execution_context
            headers = getattr(getattr(context.context, "response", None), "headers", None)
            if not isinstance(headers, MutableHeaders):
                return  # a WebSocket's headers are the request's, read-only
            result = context.result
            seconds = None
            if result is not None and not result.errors and context.graphql_document:
                seconds = document_max_age(context)
            viewer = getattr(context.context, "viewer", None)
            value = header(
                seconds,
                viewer.role if viewer is not None else Role.ANONYMOUS,
                bool(viewer is not None and viewer.customer_token_presented),
            )
            headers["Cache-Control"] = value
            if value != NO_STORE:
                headers["Vary"] = VARY  # the CORS middleware adds Origin after it
            elif "vary" in headers:
                del headers["vary"]

    return CacheControl
