"""Assembles the schema with its limits.

A ``strawberry.federation.Schema`` from the start, so Omnigate can later be composed into an
Apollo Federation 2 supergraph without changing a type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    GraphQLError,
    Node,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    parse,
    print_ast,
)
from graphql.validation import (
    MaxIntrospectionDepthRule,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from opentelemetry.trace import Tracer
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.federation import Schema
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from schema.analytics import AnalyticsQuery
from schema.cache_control import CacheAges, cache_control
from schema.codes import LoyaltyCodesMutation, LoyaltyCodesQuery
from schema.customer_admin import CustomerMutation
from schema.customers import CustomerQuery
from schema.deadline import OperationDeadline
from schema.errors import classify
from schema.federation import GuardedServiceQuery
from schema.health import HealthQuery
from schema.holds import HoldMutation, HoldQuery
from schema.limits import limits_rule
from schema.locations import LocationQuery
from schema.loyalty import LoyaltyMutation, LoyaltyQuery
from schema.loyalty_figures import LoyaltyFiguresQuery
from schema.operation_log import OperationLog, OperationObserver, observed
from schema.partial import PartialErrors
from schema.segments import SegmentMutation, SegmentQuery, SegmentSubscription
from schema.sources import declare_sources
from schema.stock_queries import StockQuery
from schema.subscriptions import Subscription as StockSubscription
from schema.trusted import TrustCheck, trusted_only
from schema.viewer import ViewerQuery

Query = merge_types(
    "Query",
    (
        HealthQuery,
        ViewerQuery,
        CustomerQuery,
        LocationQuery,
        StockQuery,
        HoldQuery,
        LoyaltyQuery,
        LoyaltyFiguresQuery,
        AnalyticsQuery,
        SegmentQuery,
    ),
)
Mutation = merge_types(
    "Mutation", (CustomerMutation, HoldMutation, LoyaltyMutation, SegmentMutation)
)
# Member codes and referrals (schema/codes.py) join both roots.
Query = merge_types("Query", (Query, LoyaltyCodesQuery))
Mutation = merge_types("Mutation", (Mutation, LoyaltyCodesMutation))
Subscription = merge_types("Subscription", (StockSubscription, SegmentSubscription))


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    introspection: bool = True
    #: ``_service { sdl }`` needs the router's (or an internal) token: on in production.
    sdl_needs_token: bool = False
    #: How long shared caches may keep public answers (see :mod:`schema.cache_control`).
    cache: CacheAges = field(default_factory=CacheAges)
    #: Seconds an operation may take (see :mod:`schema.deadline`).
    query_deadline: float = 5.0
    mutation_deadline: float = 15.0


class OmnigateSchema(Schema):
    """Routes every error, whatever stage produced it, through the error policy."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            classify(error)


_N = TypeVar("_N", bound=Node)

#: Directives only a federation router reads.
FEDERATION = frozenset({"key", "link", "shareable", "external", "requires", "provides"})


def build_schema(
    limits: Limits | None = None,
    *,
    observe: OperationObserver | None = None,
    trust: TrustCheck | None = None,
    tracer: Tracer | None = None,
) -> OmnigateSchema:
    """``observe`` is told of every operation (the gateway's metrics); ``trust`` refuses the
    operations a caller may not run (the trusted documents) before they run; each
    operation is a span on ``tracer`` (the gateway's; none without one)."""
    limits = limits or Limits()
    # The ``Source`` enum lists the vendors registered now.
    declare_sources()
    # The rule classes are made once: the validation cache is keyed by them, so a class
    # made per request (as MaxAliasesLimiter does in its constructor) would never hit it.
    rules: list[Any] = [limits_rule(max_depth=limits.max_depth, max_aliases=limits.max_aliases)]
    if MaxIntrospectionDepthRule not in specified_rules:  # graphql-core before 3.3
        rules.append(MaxIntrospectionDepthRule)
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories, not instances: strawberry builds fresh extensions per operation; the parser
    # and validation caches live at module level, shared by every operation.
    extensions: list[Any] = [
        observed(observe, tracer=tracer) if observe or tracer else OperationLog,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: OperationDeadline(query=limits.query_deadline, mutation=limits.mutation_deadline),
        PartialErrors,
        cache_control(limits.cache),
        # Last: its validation hook must run after the validation cache's (see the module).
        *([trusted_only(trust)] if trust is not None else []),
    ]
    query = Query
    if limits.sdl_needs_token:
        query = merge_types("Query", (GuardedServiceQuery, Query))
    return OmnigateSchema(
        query=query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )


def export_sdl(*, federation: bool = False) -> str:
    """The SDL as ``omnigate schema`` prints it (``docs/schema.graphql``): the API a client
    sees, for codegen; with ``federation``, the subgraph SDL a router composes
    (``docs/schema.federation.graphql``: ``@link``, ``@key``, ``_entities``, ``_service``)."""
    subgraph = build_schema().as_str()
    return (subgraph if federation else plain_sdl(subgraph)) + "\n"


def plain_sdl(subgraph: str) -> str:
    """The subgraph SDL without what only a router uses: the federation ``@link`` and
    ``@key`` directives, the ``_entities`` and ``_service`` fields and their ``_``-types."""
    document = parse(subgraph)
    kept: list[Any] = []
    for definition in document.definitions:
        name = getattr(getattr(definition, "name", None), "value", "")
        if name.startswith("_"):
            continue
        if isinstance(definition, SchemaDefinitionNode):
            definition = _with(definition, directives=())
        if isinstance(definition, ObjectTypeDefinitionNode):
            definition = _with(
                definition,
                directives=tuple(
                    d for d in definition.directives or () if d.name.value not in FEDERATION
                ),
                fields=tuple(
                    f for f in definition.fields or () if not f.name.value.startswith("_")
                ),
            )
        kept.append(definition)
    return print_ast(DocumentNode(definitions=tuple(kept)))


def _with(node: _N, **changes: Any) -> _N:
    """A copy of an AST node with some fields replaced (graphql-core's nodes are read-only)."""
    return type(node)(**{key: getattr(node, key) for key in node.keys} | changes)
