"""Requested query cost on both sides of the wire: the client paces itself with
``connectors.shopify.cost`` against its copy of the trimmed SDL, the sandbox charges with its
own ``sandboxes.shopify.cost`` against its own copy. Each is held to Shopify's documented
rules (objects 1, scalars 0, connections 2 plus ``first`` times a node), and the two must agree
on every document the client sends, at several page sizes: a client that under-counted would
be throttled by the sandbox, as by Shopify."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    type_from_ast,
)

from connectors.shopify import cost as client_cost
from connectors.shopify import queries
from connectors.shopify.schema import subset_schema
from sandboxes.shopify import cost as sandbox_cost
from sandboxes.shopify.sdl import sdl

Cost = Callable[[str, dict[str, Any] | None], int]


@cache
def sandbox_schema() -> GraphQLSchema:
    return build_schema(sdl())


def client_side(document: str, variables: dict[str, Any] | None = None) -> int:
    return client_cost.requested_cost(subset_schema(), parse(document), variables)


def sandbox_side(document: str, variables: dict[str, Any] | None = None) -> int:
    return sandbox_cost.requested_cost(sandbox_schema(), parse(document), variables)


@pytest.fixture(params=["client", "sandbox"])
def cost(request: pytest.FixtureRequest) -> Cost:
    return client_side if request.param == "client" else sandbox_side


#: Each side's calculator and the error it raises for a document it cannot cost.
SIDES = {
    "client": (client_side, client_cost.QueryCostError),
    "sandbox": (sandbox_side, sandbox_cost.QueryCostError),
}


# --- Shopify's rules, each side on its own -----------------------------------------------------


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        # Scalars are free, an object costs 1.
        ('query { customer(id: "gid://shopify/Customer/1") { id firstName } }', None, 1),
        (
            'query { customer(id: "gid://shopify/Customer/1") '
            "{ id defaultEmailAddress { emailAddress } defaultAddress { city } } }",
            None,
            3,
        ),
        # A connection: 2 plus first times one node.
        ("query { customers(first: 10) { nodes { id } pageInfo { hasNextPage } } }", None, 12),
        ("query { customers(last: 4) { edges { cursor node { id } } } }", None, 2 + 4),
        # Connections nest multiplicatively.
        (
            "query { orders(first: 5) { edges { cursor node { id "
            "lineItems(first: 3) { nodes { sku originalUnitPriceSet { shopMoney { amount } } } } "
            "} } } }",
            None,
            2 + 5 * (1 + 2 + 3 * (1 + 2)),
        ),
        # Page sizes from variables.
        (
            "query($n: Int!) { locations(first: $n) { nodes { id address { city } } } }",
            {"n": 7},
            2 + 7 * 2,
        ),
        # Lists of objects cost their length: ids, names.
        (queries.CUSTOMERS_BY_IDS, {"ids": ["a"] * 250}, 250 * 4),
        (
            'query { inventoryLevel(id: "x") { quantities(names: ["available", "on_hand"]) '
            "{ quantity } } }",
            None,
            1 + 2 * 1,
        ),
        # Fragments narrowing an interface: the dearest branch counts.
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id "
            "... on Customer { defaultAddress { city } } "
            "... on Order { customer { id } retailLocation { id } } } }",
            {"ids": ["a", "b"]},
            2 * (1 + 2),
        ),
        # Named fragments on the same type add up like fields.
        (
            "query { customers(first: 2) { nodes { ...C } } } "
            "fragment C on Customer { defaultAddress { city } }",
            None,
            2 + 2 * (1 + 1),
        ),
        # The connector's largest call, just under the single-query limit.
        (queries.SEARCH_ORDERS, {"first": 25, "lineItems": 10, "query": ""}, 977),
    ],
)
def test_each_side_follows_shopifys_cost_rules(
    cost: Cost, document: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert cost(document, variables) == expected


@pytest.mark.parametrize("side", sorted(SIDES))
def test_each_side_refuses_a_connection_without_a_page_size(side: str) -> None:
    calculate, error = SIDES[side]
    with pytest.raises(error, match="first or last"):
        calculate("query { customers { nodes { id } } }", None)


def test_each_side_knows_the_single_query_limit() -> None:
    assert client_cost.MAX_QUERY_COST == sandbox_cost.MAX_QUERY_COST == 1000
    assert client_side(queries.SEARCH_ORDERS, {"first": 26, "lineItems": 10, "query": ""}) > 1000


# --- the two sides agree on what the client sends ----------------------------------------------


def representative_variables(document: str, size: int) -> dict[str, Any]:
    """Variables for every definition of the document's operation: ``size`` for integers,
    ``size`` items for lists, a string or an identifier input otherwise."""
    (operation,) = (
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    schema = subset_schema()
    out: dict[str, Any] = {}
    for definition in operation.variable_definitions:
        type_ = type_from_ast(schema, definition.type)
        while isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        name = definition.variable.name.value
        if isinstance(type_, GraphQLList):
            out[name] = [f"gid://shopify/Customer/{i}" for i in range(size)]
        elif getattr(type_, "name", "") == "Int":
            out[name] = size
        elif getattr(type_, "name", "") == "CustomerIdentifierInput":
            out[name] = {"emailAddress": "bo@example.com"}
        else:
            out[name] = "x"
    return out


@pytest.mark.parametrize("size", [1, 5, 25])
@pytest.mark.parametrize("name", sorted(queries.DOCUMENTS))
def test_client_and_sandbox_cost_every_client_document_alike(name: str, size: int) -> None:
    document = queries.DOCUMENTS[name]
    variables = representative_variables(document, size)
    assert client_side(document, variables) == sandbox_side(document, variables), variables
