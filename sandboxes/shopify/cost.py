"""Query cost, charged the way Shopify's Admin GraphQL API charges it: the sandbox's own
calculator, written from Shopify's published rules ("API rate limits", calculated query cost)
and not shared with the client that paces itself by the same rules. If the two ever disagree,
the client is throttled or refused by this sandbox as it would be by Shopify
(``tests/sandboxes/shopify/test_cost.py`` holds both to the documented examples and to each
other on every document the client sends).

Requested cost, a static analysis of the document before it runs:

* scalars and enums are free;
* an object, or an interface or union, costs 1 plus what is selected in it (where fragments
  narrow it to different concrete types, the dearest type's selection counts);
* a connection costs 2 plus its page size (``first`` or ``last``, which it must have) times
  the cost of one node (``edges { node }`` or ``nodes``; cursors and ``pageInfo`` are free);
* a plain list of objects costs its length times one element: the page size if the field
  takes ``first``/``last``, else the length of its list argument (``nodes(ids:)``,
  ``quantities(names:)``), else 1.

A single query may request at most 1,000 points. Actual cost, counted while the query runs
(:class:`ActualCost`), charges each object actually returned 1 and each connection 2; the
difference is refunded to the bucket.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.type import GraphQLCompositeType, GraphQLNamedType, GraphQLOutputType

#: The most one query may request.
MAX_QUERY_COST = 1000

#: Connection costs and page-size arguments, from Shopify's rules.
CONNECTION_COST = 2
OBJECT_COST = 1
PAGE_SIZE_ARGUMENTS = ("first", "last")


class QueryCostError(ValueError):
    """The document cannot be costed (a connection without a page size, an unknown field)."""


def is_connection(type_: GraphQLOutputType | GraphQLCompositeType) -> bool:
    """A Relay connection: an object named ``...Connection`` with ``pageInfo``."""
    named = get_named_type(type_)
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
    )


def _composite(type_: GraphQLNamedType | None) -> GraphQLCompositeType | None:
    """``type_`` if it is an object, interface or union (what selections apply to)."""
    return type_ if is_composite_type(type_) else None


def variables_shape(variables: Mapping[str, Any] | None) -> Hashable:
    """What of the variables a requested cost depends on: numbers and booleans, list
    lengths, keys; never strings (a search string or a cursor cannot change a cost). Equal
    shapes give one document equal costs, so costs can be remembered by shape."""

    def shape(value: Any) -> Hashable:
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return tuple(sorted((str(k), shape(v)) for k, v in value.items()))
        if isinstance(value, list | tuple):
            return ("list", len(value))
        return None

    return shape(dict(variables or {}))


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The requested cost of the operation ``operation_name`` (or the only one) in
    ``document``; raises :class:`QueryCostError`."""
    operation = _operation(document, operation_name)
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise QueryCostError(f"the schema has no {operation.operation.value} root")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Costing(schema, fragments, dict(variables or {})).selection(
        root, operation.selection_set
    )


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    candidates = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (name is None or (d.name is not None and d.name.value == name))
    ]
    if len(candidates) != 1:
        raise QueryCostError("the document must contain exactly one (named) operation")
    return candidates[0]


class _Costing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables)

    def selection(self, parent: GraphQLCompositeType, selection_set: SelectionSetNode) -> int:
        """Fields on ``parent`` add up; fragments on other types are alternatives (the
        dearest counts), fragments on ``parent`` itself add up like fields."""
        own = 0
        alternatives = [0]
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                own += self.field(parent, node)
                continue
            type_name, inner = self._fragment(node)
            target = _composite(self.schema.get_type(type_name)) if type_name else parent
            if target is None:
                raise QueryCostError(f"unknown type condition {type_name}")
            cost = self.selection(target, inner)
            if target is parent:
                own += cost
            else:
                alternatives.append(cost)
        return own + max(alternatives)

    def field(self, parent: GraphQLCompositeType, node: FieldNode) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(name)
        if definition is None:
            raise QueryCostError(f"{parent.name} has no field {name}")
        returned = _composite(get_named_type(definition.type))
        if node.selection_set is None or returned is None:
            return 0
        arguments = {
            a.name.value: value_from_ast_untyped(a.value, self.variables)
            for a in node.arguments or ()
        }
        if is_connection(returned):
            assert isinstance(returned, GraphQLObjectType)
            page = _page_size(arguments)
            if page is None:
                raise QueryCostError(
                    f"you must provide one of first or last for the {name} connection"
                )
            return CONNECTION_COST + page * self.node(returned, node.selection_set)
        inner = self.selection(returned, node.selection_set)
        if is_list_type(get_nullable_type(definition.type)):
            return _list_length(arguments) * (OBJECT_COST + inner)
        return OBJECT_COST + inner

    def node(self, connection: GraphQLObjectType, selection_set: SelectionSetNode) -> int:
        """One element of a connection: each ``nodes`` or ``edges { node }`` selection."""
        cost = 0
        for field in self._fields(selection_set):
            if field.selection_set is None:
                continue
            if field.name.value == "nodes":
                cost += self._element(connection, "nodes", field.selection_set)
            elif field.name.value == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                assert isinstance(edge, GraphQLObjectType)
                for inner in self._fields(field.selection_set):
                    if inner.name.value == "node" and inner.selection_set is not None:
                        cost += self._element(edge, "node", inner.selection_set)
        return cost

    def _element(
        self, holder: GraphQLObjectType, field: str, selection_set: SelectionSetNode
    ) -> int:
        """One object reached through ``holder.field``: 1 plus its selections."""
        element = _composite(get_named_type(holder.fields[field].type))
        assert element is not None, f"{holder.name}.{field} is not an object"
        return OBJECT_COST + self.selection(element, selection_set)

    def _fields(self, selection_set: SelectionSetNode) -> Iterator[FieldNode]:
        """The fields of a selection set, fragments spread in place."""
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                yield node
            else:
                yield from self._fields(self._fragment(node)[1])

    def _fragment(self, node: Any) -> tuple[str | None, SelectionSetNode]:
        """A fragment spread or inline fragment's type condition and selections."""
        if isinstance(node, FragmentSpreadNode):
            definition = self.fragments[node.name.value]
            return definition.type_condition.name.value, definition.selection_set
        assert isinstance(node, InlineFragmentNode)
        condition = node.type_condition.name.value if node.type_condition else None
        return condition, node.selection_set


def _page_size(arguments: Mapping[str, Any]) -> int | None:
    for key in PAGE_SIZE_ARGUMENTS:
        value = arguments.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(value, 0)
    return None


def _list_length(arguments: Mapping[str, Any]) -> int:
    page = _page_size(arguments)
    if page is not None:
        return page
    lists = [v for v in arguments.values() if isinstance(v, list)]
    return len(lists[0]) if lists else 1
