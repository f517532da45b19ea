"""Requested query cost, computed like Shopify (objects 1, scalars 0, connections 2 plus
``first`` times a node), shared by the client and the sandbox."""

from __future__ import annotations

import pytest
from graphql import parse

from connectors.shopify import queries
from connectors.shopify.cost import QueryCostError, requested_cost
from connectors.shopify.schema import subset_schema


def cost(document: str, variables: dict[str, object] | None = None) -> int:
    return requested_cost(subset_schema(), parse(document), variables)


def test_scalars_are_free_and_objects_cost_one() -> None:
    assert cost('query { customer(id: "gid://shopify/Customer/1") { id firstName } }') == 1
    assert (
        cost(
            'query { customer(id: "gid://shopify/Customer/1") '
            "{ id defaultEmailAddress { emailAddress } defaultAddress { city } } }"
        )
        == 3
    )


def test_connections_cost_two_plus_first_times_a_node_and_nest_multiplicatively() -> None:
    flat = "query { customers(first: 10) { nodes { id } pageInfo { hasNextPage } } }"
    assert cost(flat) == 2 + 10 * 1
    nested = (
        "query { orders(first: 5) { edges { cursor node { id "
        "lineItems(first: 3) { nodes { sku originalUnitPriceSet { shopMoney { amount } } } } "
        "} } } }"
    )
    assert cost(nested) == 2 + 5 * (1 + 2 + 3 * (1 + 2))


def test_page_sizes_come_from_variables() -> None:
    document = "query($n: Int!) { locations(first: $n) { nodes { id address { city } } } }"
    assert cost(document, {"n": 7}) == 2 + 7 * 2
    assert cost(document, {"n": 70}) == 2 + 70 * 2


def test_lists_cost_their_length_from_ids_or_names() -> None:
    assert cost(queries.CUSTOMERS_BY_IDS, {"ids": ["a"] * 250}) == 250 * 4
    document = (
        'query { inventoryLevel(id: "x") { quantities(names: ["available", "on_hand"]) '
        "{ quantity } } }"
    )
    assert cost(document) == 1 + 2 * 1


def test_narrowing_fragments_count_the_most_expensive_branch() -> None:
    document = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id "
        "... on Customer { defaultAddress { city } } "
        "... on Order { customer { id } retailLocation { id } } } }"
    )
    assert cost(document, {"ids": ["a", "b"]}) == 2 * (1 + 2)


def test_the_connectors_largest_calls_fit_the_1000_point_limit() -> None:
    assert cost(queries.SEARCH_ORDERS, {"first": 25, "lineItems": 10, "query": ""}) == 977
    assert cost(queries.SEARCH_ORDERS, {"first": 26, "lineItems": 10, "query": ""}) > 1000


def test_a_connection_without_first_or_last_cannot_be_costed() -> None:
    with pytest.raises(QueryCostError, match="first or last"):
        cost("query { customers { nodes { id } } }")


def test_the_client_remembers_costs_by_the_sizes_in_the_variables() -> None:
    """Costs are memoised per document and variable *shape*: a different search string or
    cursor reuses the answer, a different page size or id count does not."""
    from connectors.http import HttpClient, HttpConfig
    from connectors.shopify.client import ShopifyClient

    client = ShopifyClient(
        HttpClient(HttpConfig(base_url="http://127.0.0.1:1"), source="shopify"),
        api_version="2026-01",
        schema=subset_schema(),
    )
    base = {"query": "customer_id:1", "first": 5, "lineItems": 10, "after": None}
    expected = cost(queries.SEARCH_ORDERS, base)
    assert client.cost(queries.SEARCH_ORDERS, base) == expected
    assert client.cost(queries.SEARCH_ORDERS, {**base, "query": "email:a", "after": "c"}) == (
        expected
    )
    assert client.cost(queries.SEARCH_ORDERS, {**base, "first": 25}) == cost(
        queries.SEARCH_ORDERS, {**base, "first": 25}
    )
    assert client.cost(queries.CUSTOMERS_BY_IDS, {"ids": ["a"] * 3}) == 3 * 4
    assert client.cost(queries.CUSTOMERS_BY_IDS, {"ids": ["b"] * 250}) == 250 * 4
    assert len(client._costs) == 4
