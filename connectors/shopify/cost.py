"""Requested query cost, computed the way Shopify's Admin API computes it, before sending.

Shopify charges a query its *requested* cost up front (a static analysis of the document) and
refunds the difference to the *actual* cost after running it. The client must know the
requested cost to pace itself (it needs that many points available) and to refuse a query over
the 1,000-point single-query limit before Shopify does. The sandbox charges with a calculator
of its own (``sandboxes/shopify/cost.py``), written from the same published rules, so a
mistake here is not mirrored there; ``tests/sandboxes/shopify/test_cost.py`` holds both to
Shopify's documented examples and to each other on every document the client sends.

Rules (Shopify's documented defaults):

* a scalar or enum field costs 0;
* an object (or interface) field costs 1 plus its selections;
* a connection costs 2 plus ``first`` (or ``last``) times the cost of one node (1 plus the
  node's selections); ``edges.cursor`` and ``pageInfo`` are free;
* any other list of objects costs its length times one element: ``first`` when the field takes
  it (``refunds(first:)``), else the length of its list argument (``nodes(ids:)``,
  ``quantities(names:)``), else 1;
* where fragments narrow an interface to concrete types (``nodes { ... on Customer }``), the
  most expensive branch counts.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.type import GraphQLCompositeType, GraphQLType

#: Shopify's limit on a single query's requested cost.
MAX_QUERY_COST = 1000

_SIZE_ARGUMENTS = ("first", "last")


class QueryCostError(ValueError):
    """The document cannot be costed (unknown field, missing page size)."""


def is_connection(type_: object) -> bool:
    """Relay connection types: ``XConnection`` objects with ``pageInfo`` and edges or nodes."""
    named = get_named_type(type_) if isinstance(type_, GraphQLType) else None
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
    )


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The requested cost of one operation of ``document`` with ``variables``."""
    operation = _operation(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.query_type if operation.operation.value == "query" else schema.mutation_type
    if root is None:
        raise QueryCostError(f"schema has no {operation.operation.value} type")
    walker = _Walker(schema, fragments, dict(variables or {}))
    return walker.selections(root, operation.selection_set)


def cost_shape(variables: Any) -> Hashable:
    """What of the variables a requested cost can depend on: numbers and booleans as they
    are, lists by their length, mappings key by key; strings and nulls not at all. Equal
    shapes give equal costs for one document, so costs can be remembered by shape (a search
    string or a cursor never changes one)."""
    if isinstance(variables, bool | int | float):
        return variables
    if isinstance(variables, Mapping):
        return tuple(sorted((str(k), cost_shape(v)) for k, v in variables.items()))
    if isinstance(variables, list | tuple):
        return ("len", len(variables))
    return None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == name]
    if len(operations) != 1:
        raise QueryCostError("the document must contain exactly one (named) operation")
    return operations[0]


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables)

    def selections(self, parent: GraphQLCompositeType, selection_set: SelectionSetNode) -> int:
        """Fields of ``parent`` add up; fragments narrowing to other types compete (max)."""
        total = 0
        narrowed = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                type_condition = selection.type_condition
                condition = type_condition.name.value if type_condition else None
                inner = selection.selection_set
            target = self.schema.get_type(condition) if condition else parent
            if not is_composite_type(target):
                raise QueryCostError(f"unknown type condition {condition}")
            cost = self.selections(target, inner)
            if target is parent:
                total += cost
            else:
                narrowed = max(narrowed, cost)
        return total + narrowed

    def field(self, parent: GraphQLCompositeType, node: FieldNode) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if definition is None:
            raise QueryCostError(f"{parent.name} has no field {name}")
        named = get_named_type(definition.type)
        if not is_composite_type(named) or node.selection_set is None:
            return 0
        arguments = self.arguments(node)
        if is_connection(named):
            size = self.size(arguments, name)
            assert isinstance(named, GraphQLObjectType)
            return 2 + size * self.connection_node(named, node.selection_set)
        children = self.selections(named, node.selection_set)
        if _is_list(definition.type):
            return self.list_length(arguments) * (1 + children)
        return 1 + children

    def connection_node(
        self, connection: GraphQLObjectType, selection_set: SelectionSetNode
    ) -> int:
        """Cost of one element: ``nodes`` and ``edges { node }`` each count per element."""
        per_node = 0
        for selection in self._fields(selection_set):
            name = selection.name.value
            if name == "nodes" and selection.selection_set is not None:
                node_type = get_named_type(connection.fields["nodes"].type)
                per_node += 1 + self.selections(node_type, selection.selection_set)
            elif name == "edges" and selection.selection_set is not None:
                edge_type = get_named_type(connection.fields["edges"].type)
                assert isinstance(edge_type, GraphQLObjectType)
                for inner in self._fields(selection.selection_set):
                    if inner.name.value == "node" and inner.selection_set is not None:
                        node_type = get_named_type(edge_type.fields["node"].type)
                        per_node += 1 + self.selections(node_type, inner.selection_set)
        return per_node

    def _fields(self, selection_set: SelectionSetNode) -> list[FieldNode]:
        """Fields of a selection set, with fragments on the same type flattened in."""
        fields: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, FragmentSpreadNode):
                fields.extend(self._fields(self.fragments[selection.name.value].selection_set))
            elif isinstance(selection, InlineFragmentNode):
                fields.extend(self._fields(selection.selection_set))
        return fields

    def arguments(self, node: FieldNode) -> dict[str, Any]:
        return {
            argument.name.value: value_from_ast_untyped(argument.value, self.variables)
            for argument in node.arguments or ()
        }

    def size(self, arguments: Mapping[str, Any], field: str) -> int:
        for key in _SIZE_ARGUMENTS:
            value = arguments.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
        raise QueryCostError(f"you must provide one of first or last for the {field} connection")

    def list_length(self, arguments: Mapping[str, Any]) -> int:
        for key in _SIZE_ARGUMENTS:
            value = arguments.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
        for value in arguments.values():
            if isinstance(value, list):
                return len(value)
        return 1


def _is_list(type_: object) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return is_list_type(type_) or isinstance(type_, GraphQLList)
