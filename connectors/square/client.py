"""Wire calls to Square's REST API v2, one method per endpoint, returning Square's JSON.

Mapping to domain records lives in :mod:`connectors.square.mapping`; this module only knows
Square's request shapes, its limits (ids per call, page sizes) and its cursor pagination:
a paginated call is repeated with the *same* body plus the returned ``cursor`` until a page
comes back without one.

Every read is marked idempotent, including the POST searches and batch retrieves, so the
shared HTTP client may retry them on 429 (honouring ``Retry-After``, with jitter) and on
502/503/504.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from connectors.errors import UpstreamBadResponse
from connectors.http import HttpClient
from connectors.square.errors import current_operation
from connectors.square.source import SOURCE

#: Square's documented limits per call.
CUSTOMER_BULK_LIMIT = 100
CUSTOMER_SEARCH_PAGE = 100
ORDER_SEARCH_IDS = 10
ORDER_SEARCH_PAGE = 1000
ORDER_BATCH_LIMIT = 100
CATALOG_BATCH_LIMIT = 1000
CATALOG_SET_QUERY_VALUES = 250
CATALOG_SEARCH_PAGE = 1000
INVENTORY_PAGE = 1000
INVENTORY_IDS_PER_CALL = 1000

#: OAuth permissions the access token needs: the reads below plus ``PAYMENTS_READ`` for the
#: ``refund.*`` webhooks (docs/connectors/square.md; a contract test checks them against the
#: scopes the spec gives each operation and event).
REQUIRED_SCOPES: frozenset[str] = frozenset(
    {"CUSTOMERS_READ", "ORDERS_READ", "ITEMS_READ", "INVENTORY_READ", "MERCHANT_PROFILE_READ",
     "PAYMENTS_READ"}
)  # fmt: skip

JSON = dict[str, Any]


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    """``items`` split into lists of at most ``size``, order kept."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class SquareClient:
    """Thin typed layer over :class:`HttpClient` for the endpoints Omnigate reads."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        body: JSON | None = None,
        params: dict[str, str] | None = None,
    ) -> JSON:
        """One request; the JSON object it answers. Raises an ``UpstreamError``."""
        token = current_operation.set(operation)
        try:
            response = await self.http.request(
                method,
                path,
                operation=operation,
                json=body,
                params=params,
                idempotent=True,
            )
        finally:
            current_operation.reset(token)
        data = response.json
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise UpstreamBadResponse(
                f"square {operation}: expected a JSON object",
                source=SOURCE,
                operation=operation,
                status=response.status,
            )
        return data

    async def pages(self, path: str, body: JSON, *, operation: str) -> AsyncIterator[JSON]:
        """Every page of a cursor-paginated POST search: the same body plus ``cursor``."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            request = dict(body)
            if cursor is not None:
                request["cursor"] = cursor
            page = await self.call("POST", path, operation=operation, body=request)
            yield page
            next_cursor = page.get("cursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                return
            if next_cursor in seen:
                # A server that hands back a cursor it already gave would loop us forever.
                raise UpstreamBadResponse(
                    f"square {operation}: repeated pagination cursor",
                    source=SOURCE,
                    operation=operation,
                )
            seen.add(next_cursor)
            cursor = next_cursor

    # --- customers ---------------------------------------------------------------------------

    async def bulk_retrieve_customers(self, ids: Sequence[str]) -> JSON:
        """``BulkRetrieveCustomers``: at most 100 ids; ``responses`` is keyed by id."""
        if len(ids) > CUSTOMER_BULK_LIMIT:
            raise ValueError(f"at most {CUSTOMER_BULK_LIMIT} customer ids per call")
        return await self.call(
            "POST",
            "/v2/customers/bulk-retrieve",
            operation="customers.bulk_retrieve",
            body={"customer_ids": list(ids)},
        )

    def search_customers(
        self, query: JSON, *, limit: int = CUSTOMER_SEARCH_PAGE
    ) -> AsyncIterator[JSON]:
        """``SearchCustomers`` pages for one ``CustomerQuery``."""
        return self.pages(
            "/v2/customers/search",
            {"limit": limit, "query": query},
            operation="customers.search",
        )

    # --- orders ------------------------------------------------------------------------------

    def search_orders(
        self,
        *,
        location_ids: Sequence[str],
        customer_ids: Sequence[str] = (),
        states: Sequence[str] = ("COMPLETED",),
        limit: int = ORDER_SEARCH_PAGE,
    ) -> AsyncIterator[JSON]:
        """``SearchOrders`` pages: at most 10 location ids and 10 customer ids per call."""
        if not location_ids or len(location_ids) > ORDER_SEARCH_IDS:
            raise ValueError(f"SearchOrders takes 1 to {ORDER_SEARCH_IDS} location ids")
        if len(customer_ids) > ORDER_SEARCH_IDS:
            raise ValueError(f"SearchOrders takes at most {ORDER_SEARCH_IDS} customer ids")
        filters: JSON = {}
        if states:
            filters["state_filter"] = {"states": list(states)}
        if customer_ids:
            filters["customer_filter"] = {"customer_ids": list(customer_ids)}
        query: JSON = {"sort": {"sort_field": "CREATED_AT", "sort_order": "DESC"}}
        if filters:
            query["filter"] = filters
        return self.pages(
            "/v2/orders/search",
            {"location_ids": list(location_ids), "query": query, "limit": limit},
            operation="orders.search",
        )

    async def batch_retrieve_orders(self, ids: Sequence[str]) -> JSON:
        if len(ids) > ORDER_BATCH_LIMIT:
            raise ValueError(f"at most {ORDER_BATCH_LIMIT} order ids per call")
        return await self.call(
            "POST",
            "/v2/orders/batch-retrieve",
            operation="orders.batch_retrieve",
            body={"order_ids": list(ids)},
        )

    # --- catalog -----------------------------------------------------------------------------

    async def batch_retrieve_catalog(self, ids: Sequence[str]) -> JSON:
        if len(ids) > CATALOG_BATCH_LIMIT:
            raise ValueError(f"at most {CATALOG_BATCH_LIMIT} catalog ids per call")
        return await self.call(
            "POST",
            "/v2/catalog/batch-retrieve",
            operation="catalog.batch_retrieve",
            body={"object_ids": list(ids), "include_related_objects": False},
        )

    def search_variations_by_sku(self, skus: Sequence[str]) -> AsyncIterator[JSON]:
        """Item variations whose SKU is any of ``skus`` (Square matches case-insensitively)."""
        if not skus or len(skus) > CATALOG_SET_QUERY_VALUES:
            raise ValueError(f"1 to {CATALOG_SET_QUERY_VALUES} SKUs per catalog search")
        return self.pages(
            "/v2/catalog/search",
            {
                "object_types": ["ITEM_VARIATION"],
                "query": {"set_query": {"attribute_name": "sku", "attribute_values": list(skus)}},
                "limit": CATALOG_SEARCH_PAGE,
            },
            operation="catalog.search",
        )

    def all_variations(self) -> AsyncIterator[JSON]:
        """Every item variation in the catalog, for warming the SKU cache."""
        return self.pages(
            "/v2/catalog/search",
            {"object_types": ["ITEM_VARIATION"], "limit": CATALOG_SEARCH_PAGE},
            operation="catalog.search",
        )

    def all_items(self) -> AsyncIterator[JSON]:
        """Every catalog item, its variations nested (``SearchCatalogObjects`` on ``ITEM``):
        the item's name is what a variation's own ``name`` ("Black / M") lacks."""
        return self.pages(
            "/v2/catalog/search",
            {"object_types": ["ITEM"], "limit": CATALOG_SEARCH_PAGE},
            operation="catalog.search",
        )

    # --- locations and inventory ------------------------------------------------------------

    async def list_locations(self) -> JSON:
        return await self.call("GET", "/v2/locations", operation="locations.list")

    def inventory_counts(
        self,
        catalog_object_ids: Sequence[str],
        location_ids: Sequence[str] | None,
        *,
        states: Sequence[str] = ("IN_STOCK",),
    ) -> AsyncIterator[JSON]:
        """``BatchRetrieveInventoryCounts`` pages for many variations across locations."""
        body: JSON = {
            "catalog_object_ids": list(catalog_object_ids),
            "states": list(states),
            "limit": INVENTORY_PAGE,
        }
        if location_ids is not None:
            body["location_ids"] = list(location_ids)
        return self.pages(
            "/v2/inventory/counts/batch-retrieve", body, operation="inventory.batch_retrieve_counts"
        )

    def all_inventory_counts(self, *, states: Sequence[str] = ("IN_STOCK",)) -> AsyncIterator[JSON]:
        """``BatchRetrieveInventoryCounts`` without catalog or location ids: every tracked
        variation at every location of the seller, a cursor page at a time."""
        body: JSON = {"states": list(states), "limit": INVENTORY_PAGE}
        return self.pages(
            "/v2/inventory/counts/batch-retrieve", body, operation="inventory.list_counts"
        )
