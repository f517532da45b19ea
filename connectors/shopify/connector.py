"""The Shopify connector: customers, orders, locations and inventory from the Admin GraphQL API.

Batching is what keeps a customer 360 cheap: customers and orders by id go through
``nodes(ids:)`` (at most 250 ids per call, fewer if the cost limit demands), orders of many
customers through one ``orders(query: "customer_id:… OR …")`` search per group of customers,
inventory for many SKUs through one ``inventoryItems(query: "sku:… OR …")`` search. Every
call is sized from its requested cost so it stays under Shopify's 1,000-point limit, and
calls that are independent run concurrently; the client's cost bucket paces them.

Ids: customers, orders and inventory items are identified by their global ids
(``gid://shopify/Customer/123``); numeric ids are accepted as input too, and results are keyed
by the id exactly as the caller passed it. Locations use the unified ``shopify:<numeric id>``.

Two small caches serve webhooks, whose bodies name things by Shopify id: inventory item ->
SKU (filled by every inventory read, or at start with ``warm_sku_cache``) and the last read
of each location.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from connectors.http import HttpClient, HttpConfig
from connectors.metrics import RequestCounter
from connectors.records import (
    QUANTITY_NAMES,
    CatalogVariant,
    CustomerBundle,
    CustomerRecord,
    InventoryLevel,
    LocationRecord,
    OrderRecord,
)
from connectors.shopify import mapping, queries, search
from connectors.shopify.client import ShopifyClient, classify
from connectors.shopify.cost import MAX_QUERY_COST
from connectors.shopify.ids import gid, gid_kind, location_id, numeric_id
from connectors.shopify.schema import subset_schema
from connectors.shopify.source import SOURCE
from connectors.shopify.webhooks import ShopifyWebhooks
from connectors.warmup import Warmup

log = logging.getLogger("omnigate.connectors.shopify")

T = TypeVar("T")

#: Shopify's limit on ``first`` and on the ids of one ``nodes(ids:)`` call.
MAX_PAGE = 250

#: Connections to one shop. Shopify limits an app by its cost bucket (1,000 points, refilled
#: at 100 a second, or 1,000 on Plus), not by connections: a cold 360's bundle costs ~800
#: points and the client only sends calls whose cost the bucket holds, so more than a few
#: expensive calls are never in flight at once; ten leave room for cheap ones (a lookup by
#: email is 4 points) beside them. Calls beyond it queue for a connection, not for a socket.
MAX_CONNECTIONS = 10

#: Most of the cost bucket one page of a background full read may request (see
#: :meth:`ShopifyConnector.list_inventory_levels`).
BACKGROUND_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class ShopifyConfig:
    """Connection and sizing settings. Only ``http`` and ``access_token`` are required."""

    http: HttpConfig
    access_token: str
    api_version: str = "2026-01"
    webhook_secret: str | None = None
    #: Seconds a call may wait for the cost bucket (across ``THROTTLED`` retries) before
    #: failing with ``UPSTREAM_RATE_LIMITED``.
    throttle_deadline: float = 30.0
    #: Customers named in one ``orders(query:)`` search (keeps the query string short).
    customers_per_order_search: int = 50
    #: Line items fetched with each order; more are fetched by a follow-up call.
    line_items_per_order: int = 10
    #: Expected orders per customer when sizing order pages (more are paginated).
    orders_per_person: int = 10
    #: Most customers a name/email/phone search returns.
    search_limit: int = 100
    #: Load every inventory item's SKU at start, so stock webhooks resolve from the first one.
    warm_sku_cache: bool = False
    quantity_names: tuple[str, ...] = QUANTITY_NAMES
    extra_headers: dict[str, str] = field(default_factory=dict)
    #: Pool size; replaces ``http.max_connections`` (see :data:`MAX_CONNECTIONS`).
    max_connections: int = MAX_CONNECTIONS


class ShopifyConnector:
    """Implements ``CustomerSource``, ``OrderSource``, ``GuestOrderSource``,
    ``CustomerBundleSource``, ``LocationSource`` and ``InventorySource``."""

    source = SOURCE

    def __init__(
        self,
        config: ShopifyConfig,
        *,
        counter: RequestCounter | None = None,
        http: HttpClient | None = None,
    ) -> None:
        self.config = config
        headers = {
            **config.http.default_headers,
            **config.extra_headers,
            "X-Shopify-Access-Token": config.access_token,
            "Accept": "application/json",
        }
        self._http = http or HttpClient(
            dataclasses.replace(
                config.http, default_headers=headers, max_connections=config.max_connections
            ),
            source=SOURCE,
            counter=counter,
            classify=classify,
        )
        self.client = ShopifyClient(
            self._http,
            api_version=config.api_version,
            schema=subset_schema(),
            throttle_deadline=config.throttle_deadline,
        )
        #: Inventory item global id -> SKU, for ``inventory_levels/update`` webhooks.
        self.sku_cache: dict[str, str] = {}
        self._locations: dict[str, LocationRecord] = {}
        self._warmup = Warmup("shopify SKU cache", self.refresh_sku_cache)
        self.webhooks: ShopifyWebhooks | None = (
            ShopifyWebhooks(
                config.webhook_secret,
                resolve_sku=self.sku_cache.get,
                resolve_location=self._locations.get,
            )
            if config.webhook_secret
            else None
        )

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self._http.start()
        if self.config.warm_sku_cache:
            self._warmup.start()

    async def close(self) -> None:
        await self._warmup.stop()
        await self._http.close()

    def circuit_state(self) -> str:
        return self._http.circuit_state()

    # --- customers ---------------------------------------------------------------------------

    async def get_customers(self, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        wanted = _by_gid("Customer", ids)
        if not wanted:
            return {}
        batch = self._batch_size(queries.CUSTOMERS_BY_IDS, "ids", {})
        pages = await self._fan_out(
            queries.CUSTOMERS_BY_IDS,
            [{"ids": chunk} for chunk in _chunks(list(wanted), batch)],
            operation="customers_by_ids",
        )
        return _customers_as_asked(wanted, (n for data in pages for n in data.get("nodes") or ()))

    async def search_customers(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        name: str | None = None,
    ) -> list[CustomerRecord]:
        """One ``customerByIdentifier`` for a lone email or phone (exact, cheap); otherwise
        ``customers(query:)`` with every term OR-ed (50 terms per search)."""
        emails = [e.strip() for e in emails if e and e.strip()]
        phones = [p.strip() for p in phones if p and p.strip()]
        name_clause = search.name_prefix(name or "")
        if len(emails) + len(phones) == 1 and not name_clause:
            identifier = {"emailAddress": emails[0]} if emails else {"phoneNumber": phones[0]}
            data = await self.client.query(
                queries.CUSTOMER_BY_IDENTIFIER,
                {"identifier": identifier},
                operation="customer_by_identifier",
            )
            node = data.get("customerByIdentifier")
            return [mapping.customer(node)] if isinstance(node, Mapping) else []
        terms = [search.any_of("email", [e]) for e in emails]
        terms += [search.any_of("phone", [p]) for p in phones]
        clauses = [search.either(*chunk) for chunk in _chunks(terms, 50)]
        if name_clause:
            clauses.append(name_clause)
        first = min(self.config.search_limit, self._page_size(queries.SEARCH_CUSTOMERS, {}))
        cost = self.client.cost(queries.SEARCH_CUSTOMERS, {"query": "", "first": first})
        results = await self._run(
            [(cost, functools.partial(self._search, clause, first)) for clause in clauses]
        )
        seen: dict[str, CustomerRecord] = {}
        for records in results:
            for record in records:
                seen.setdefault(record.id, record)
        return list(seen.values())[: self.config.search_limit]

    async def _search(self, query: str, first: int) -> list[CustomerRecord]:
        records: list[CustomerRecord] = []
        async for nodes in self._pages(
            queries.SEARCH_CUSTOMERS,
            {"query": query, "first": first},
            "customers",
            operation="search_customers",
        ):
            records.extend(mapping.customer(n) for n in nodes)
            if len(records) >= self.config.search_limit:
                break
        return records

    async def list_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[CustomerRecord]]:
        first = self._page_size(queries.CUSTOMERS_BY_UPDATE, {})
        variables: dict[str, Any] = {
            "query": search.updated_since(updated_since) if updated_since else None,
            "first": first,
        }
        async for nodes in self._pages(
            queries.CUSTOMERS_BY_UPDATE, variables, "customers", operation="list_customers"
        ):
            yield [mapping.customer(n) for n in nodes]

    # --- orders ------------------------------------------------------------------------------

    async def orders_for_customers(
        self, customer_ids: Sequence[str]
    ) -> Mapping[str, list[OrderRecord]]:
        wanted = _by_gid("Customer", customer_ids)
        if not wanted:
            return {asked: [] for asked in customer_ids}
        groups = _chunks(list(wanted), max(1, self.config.customers_per_order_search))
        line_items = self.config.line_items_per_order
        first = self._order_page_size(len(groups[0]))
        cost = self.client.cost(
            queries.SEARCH_ORDERS, {"query": "", "first": first, "lineItems": line_items}
        )
        found = await self._run(
            [(cost, functools.partial(self._orders_of, group, first)) for group in groups]
        )
        return _orders_as_asked(customer_ids, wanted, (r for rs in found for r in rs), _customer_of)

    async def orders_for_emails(self, emails: Sequence[str]) -> Mapping[str, list[OrderRecord]]:
        """Orders whose contact email is one of ``emails`` (case-insensitive), keyed by the
        email as passed: guest checkouts have an email but no customer, so
        :meth:`orders_for_customers` cannot find them. Not part of ``OrderSource`` (yet)."""
        wanted = _by_email(emails)
        if not wanted:
            return {email: [] for email in emails}
        groups = _chunks(list(wanted), max(1, self.config.customers_per_order_search))
        line_items = self.config.line_items_per_order
        first = self._order_page_size(len(groups[0]))
        cost = self.client.cost(
            queries.SEARCH_ORDERS, {"query": "", "first": first, "lineItems": line_items}
        )
        found = await self._run(
            [
                (
                    cost,
                    functools.partial(
                        self._search_orders,
                        search.any_of("email", g),
                        first,
                        "orders_for_emails",
                    ),
                )
                for g in groups
            ]
        )
        return _orders_as_asked(emails, wanted, (r for rs in found for r in rs), _email_of)

    async def customer_bundle(
        self, customer_ids: Sequence[str], emails: Sequence[str]
    ) -> CustomerBundle:
        """Customers, their orders and their emails' orders: one ``CustomerBundle`` request
        when it fits (a few customers, under the cost limit), with later pages fetched by
        ``SearchOrders``; otherwise the three batched reads side by side.

        A cold 360 needs all three; as one request it waits for one round trip and Shopify
        executes one document, where three requests would queue behind each other."""
        wanted = _by_gid("Customer", customer_ids)
        wanted_emails = _by_email(emails)
        variables = self._bundle_variables(wanted, wanted_emails)
        if variables is None:
            customers, orders, email_orders = await asyncio.gather(
                self.get_customers(customer_ids),
                self.orders_for_customers(customer_ids),
                self.orders_for_emails(emails),
            )
            return CustomerBundle(dict(customers), dict(orders), dict(email_orders))
        data = await self.client.query(
            queries.CUSTOMER_BUNDLE, variables, operation="customer_bundle"
        )
        order_nodes, email_nodes = await asyncio.gather(
            self._rest_of_orders(data.get("orders"), variables["ordersQuery"]),
            self._rest_of_orders(data.get("guestOrders"), variables["guestQuery"]),
        )
        placed, by_email = await asyncio.gather(
            self._orders(order_nodes), self._orders(email_nodes)
        )
        return CustomerBundle(
            _customers_as_asked(wanted, data.get("customers") or ()),
            _orders_as_asked(customer_ids, wanted, placed, _customer_of),
            _orders_as_asked(emails, wanted_emails, by_email, _email_of),
        )

    def _bundle_variables(
        self, wanted: Mapping[str, list[str]], wanted_emails: Mapping[str, list[str]]
    ) -> dict[str, Any] | None:
        """Variables of one ``CustomerBundle`` request for these, or ``None`` when it does
        not fit: nothing to ask on one side, more people than one search names, or a
        requested cost over Shopify's limit or the shop's bucket."""
        people = max(len(wanted), len(wanted_emails))
        if not wanted or not wanted_emails or people > self.config.customers_per_order_search:
            return None
        variables: dict[str, Any] = {
            "ids": list(wanted),
            "ordersQuery": search.numeric_any_of("customer_id", [numeric_id(c) for c in wanted]),
            "ordersFirst": self._order_page_size(len(wanted)),
            "guestQuery": search.any_of("email", list(wanted_emails)),
            "guestFirst": self._order_page_size(len(wanted_emails)),
            "lineItems": self.config.line_items_per_order,
        }
        limit = min(MAX_QUERY_COST, int(self.client.bucket.capacity or MAX_QUERY_COST))
        # Two order pages share one request's cost: halve the larger until they fit (later
        # pages, if anyone has more orders, come from ``SearchOrders`` at full size), but
        # not below one person's expected orders: pages that small would only trade the
        # bundle's round trip for more pages.
        floor = max(1, self.config.orders_per_person)
        while self.client.cost(queries.CUSTOMER_BUNDLE, variables) > limit:
            larger = max(("ordersFirst", "guestFirst"), key=lambda k: variables[k])
            if variables[larger] // 2 < floor:
                return None
            variables[larger] //= 2
        return variables

    async def _rest_of_orders(self, connection: object, query: str) -> list[Mapping[str, Any]]:
        """The nodes of a first page of orders found by ``query``, and of every later page."""
        nodes = mapping.nodes(connection)
        info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
        cursor = info.get("endCursor") if isinstance(info, Mapping) else None
        if not (_has_next(connection) and cursor):
            return nodes
        async for page in self._pages(
            queries.SEARCH_ORDERS,
            {
                "query": query,
                "first": self._order_page_size(self.config.customers_per_order_search),
                "lineItems": self.config.line_items_per_order,
            },
            "orders",
            operation="customer_bundle",
            after=cursor,
        ):
            nodes.extend(page)
        return nodes

    async def _orders_of(self, customer_gids: list[str], first: int) -> list[OrderRecord]:
        query = search.numeric_any_of("customer_id", [numeric_id(c) for c in customer_gids])
        return await self._search_orders(query, first)

    async def _search_orders(
        self, query: str, first: int, operation: str = "orders_for_customers"
    ) -> list[OrderRecord]:
        line_items = self.config.line_items_per_order
        nodes: list[Mapping[str, Any]] = []
        async for page in self._pages(
            queries.SEARCH_ORDERS,
            {"query": query, "first": first, "lineItems": line_items},
            "orders",
            operation=operation,
        ):
            nodes.extend(page)
        return await self._orders(nodes)

    async def get_orders(self, ids: Sequence[str]) -> Mapping[str, OrderRecord]:
        wanted = _by_gid("Order", ids)
        if not wanted:
            return {}
        line_items = self.config.line_items_per_order
        batch = self._batch_size(queries.ORDERS_BY_IDS, "ids", {"lineItems": line_items})
        pages = await self._fan_out(
            queries.ORDERS_BY_IDS,
            [{"ids": chunk, "lineItems": line_items} for chunk in _chunks(list(wanted), batch)],
            operation="orders_by_ids",
        )
        nodes = [
            node
            for data in pages
            for node in data.get("nodes") or ()
            if isinstance(node, Mapping) and node.get("id") in wanted
        ]
        found: dict[str, OrderRecord] = {}
        for record in await self._orders(nodes):
            for asked in wanted[record.id]:
                found[asked] = record
        return found

    async def _orders(self, nodes: list[Mapping[str, Any]]) -> list[OrderRecord]:
        """Map order nodes, fetching the rest of any order's line items first."""
        truncated = [n for n in nodes if _has_next(n.get("lineItems"))]
        first = self._page_size(queries.ORDER_LINE_ITEMS, {"id": ""})
        cost = self.client.cost(queries.ORDER_LINE_ITEMS, {"id": "", "first": first})
        fetched = await self._run(
            [(cost, functools.partial(self._all_line_items, n, first)) for n in truncated]
        )
        extra = dict(zip((n["id"] for n in truncated), fetched, strict=True))
        return [mapping.order(n, extra.get(n["id"])) for n in nodes]

    async def _all_line_items(
        self, order: Mapping[str, Any], first: int
    ) -> list[Mapping[str, Any]]:
        connection = order.get("lineItems") or {}
        items = list(mapping.nodes(connection))
        cursor = (connection.get("pageInfo") or {}).get("endCursor")
        while cursor:
            data = await self.client.query(
                queries.ORDER_LINE_ITEMS,
                {"id": order["id"], "first": first, "after": cursor},
                operation="order_line_items",
            )
            page = (data.get("order") or {}).get("lineItems") or {}
            items.extend(mapping.nodes(page))
            info = page.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
        return items

    # --- locations ---------------------------------------------------------------------------

    async def list_locations(self) -> list[LocationRecord]:
        records: list[LocationRecord] = []
        first = self._page_size(queries.LOCATIONS, {})
        async for nodes in self._pages(
            queries.LOCATIONS, {"first": first}, "locations", operation="locations"
        ):
            records.extend(mapping.location(n) for n in nodes)
        self._locations.clear()
        self._locations.update((r.id, r) for r in records)
        return records

    # --- catalog -----------------------------------------------------------------------------

    async def list_variants(self) -> AsyncIterator[list[CatalogVariant]]:
        """Every product variant with a SKU, a page (as many as the cost limit allows) per
        call: the SKU <-> variant <-> inventory item part of the catalog map. Each page also
        reads the shop's currency, which a variant's price does not name."""
        first = self._page_size(queries.CATALOG_VARIANTS, {})
        cursor: str | None = None
        while True:
            data = await self.client.query(
                queries.CATALOG_VARIANTS, {"first": first, "after": cursor}, operation="catalog"
            )
            shop = data.get("shop") or {}
            currency = shop.get("currencyCode") if isinstance(shop, Mapping) else None
            connection = data.get("productVariants") or {}
            page = [
                v
                for n in mapping.nodes(connection)
                if (v := mapping.catalog_variant(n, currency=currency)) is not None
            ]
            if page:
                yield page
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            if not cursor:
                return

    # --- inventory ---------------------------------------------------------------------------

    async def inventory_levels(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[InventoryLevel]:
        wanted = list(dict.fromkeys(s for s in skus if s))
        if not wanted:
            return []
        if not self._locations:
            await self.list_locations()
        per_item = max(1, len(self._locations))
        names = list(self.config.quantity_names)
        base = {"levels": per_item, "names": names, "query": ""}
        first = self._page_size(queries.INVENTORY_BY_SKU, base)
        cost = self.client.cost(queries.INVENTORY_BY_SKU, {**base, "first": first})
        pages = await self._run(
            [
                (cost, functools.partial(self._inventory_items, chunk, first, base))
                for chunk in _chunks(wanted, first)
            ]
        )
        wanted_set = set(wanted)
        locations = set(location_ids) if location_ids is not None else None
        levels: list[InventoryLevel] = []
        for items in pages:
            for item, level_nodes in items:
                sku = item.get("sku")
                if sku not in wanted_set:
                    continue  # Shopify's sku: search may also match near misses
                for node in level_nodes:
                    level = mapping.inventory_level(sku, node)
                    if level is not None and (locations is None or level.location_id in locations):
                        levels.append(level)
        return levels

    async def _inventory_items(
        self, skus: list[str], first: int, base: Mapping[str, Any]
    ) -> list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]]:
        variables = {**base, "query": search.any_of("sku", skus), "first": first}
        out: list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]] = []
        async for items in self._pages(
            queries.INVENTORY_BY_SKU, variables, "inventoryItems", operation="inventory_levels"
        ):
            for item in items:
                if item.get("sku"):
                    self.sku_cache[str(item["id"])] = str(item["sku"])
                connection = item.get("inventoryLevels") or {}
                level_nodes = list(mapping.nodes(connection))
                info = connection.get("pageInfo") or {}
                if info.get("hasNextPage"):
                    level_nodes += await self._more_levels(item, info.get("endCursor"), base)
                out.append((item, level_nodes))
        return out

    async def _more_levels(
        self, item: Mapping[str, Any], cursor: str | None, base: Mapping[str, Any]
    ) -> list[Mapping[str, Any]]:
        """Levels beyond the first page (a location added since the locations were read)."""
        found: list[Mapping[str, Any]] = []
        variables = {"id": item["id"], "names": base["names"]}
        first = self._page_size(queries.INVENTORY_ITEM_LEVELS, variables)
        while cursor:
            data = await self.client.query(
                queries.INVENTORY_ITEM_LEVELS,
                {**variables, "first": first, "after": cursor},
                operation="inventory_item_levels",
            )
            connection = (data.get("inventoryItem") or {}).get("inventoryLevels") or {}
            found.extend(mapping.nodes(connection))
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
        return found

    async def list_inventory_levels(self) -> AsyncIterator[list[InventoryLevel]]:
        """Every level of every inventory item, a page of items at a time (warmup and
        reconciliation). Fills the SKU cache as a side effect.

        A background read must not starve the interactive ones that share the shop's cost
        bucket (the client serves waiters first come, first served): each page requests at
        most :data:`BACKGROUND_SHARE` of the bucket, and is sent only once the bucket also
        holds half its size for others. The read then takes what the refill gives it (about
        a minute for 100 items at 7 locations on a Standard plan) and a 360 beside it waits
        for no page. An item at more locations than the shop listed is completed by
        follow-up calls."""
        if not self._locations:
            await self.list_locations()
        base = {
            "levels": max(1, len(self._locations)),
            "names": list(self.config.quantity_names),
        }
        first = self._background_page_size(queries.INVENTORY_LEVELS_ALL, base)
        variables = {**base, "first": first}
        cost = self.client.cost(queries.INVENTORY_LEVELS_ALL, variables)
        cursor: str | None = None
        while True:
            await self._leave_headroom(cost)
            data = await self.client.query(
                queries.INVENTORY_LEVELS_ALL,
                {**variables, "after": cursor},
                operation="list_inventory_levels",
            )
            connection = data.get("inventoryItems") or {}
            items = mapping.nodes(connection)
            yield [level for item in items for level in await self._item_levels(item, base)]
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            if not cursor:
                return

    def _background_page_size(self, document: str, variables: Mapping[str, Any]) -> int:
        """The largest ``first`` whose requested cost is within the background share."""
        capacity = min(MAX_QUERY_COST, int(self.client.bucket.capacity or MAX_QUERY_COST))
        budget = max(1, int(capacity * BACKGROUND_SHARE))
        try:
            return self._largest(
                lambda n: self.client.cost(document, {**variables, "first": n}),
                MAX_PAGE,
                limit=budget,
            )
        except ValueError:
            return 1  # one item is over the share (very many locations): one at a time

    async def _leave_headroom(self, cost: int) -> None:
        """Wait until the bucket holds ``cost`` plus half its size (a no-op when it does)."""
        bucket = self.client.bucket
        if bucket.capacity:
            wait = bucket.time_until(min(bucket.capacity, cost + bucket.capacity / 2))
            if wait > 0:
                await asyncio.sleep(wait)

    async def item_levels(self, item_ref: str) -> list[InventoryLevel]:
        """Every level of one inventory item named by its id (a webhook for an item the SKU
        cache does not know yet); empty when Shopify has no such item or it has no SKU."""
        names = list(self.config.quantity_names)
        variables = {"id": gid("InventoryItem", item_ref), "names": names}
        first = self._page_size(queries.INVENTORY_ITEM_LEVELS, variables)
        data = await self.client.query(
            queries.INVENTORY_ITEM_LEVELS,
            {**variables, "first": first, "after": None},
            operation="inventory_item_levels",
        )
        item = data.get("inventoryItem")
        if not isinstance(item, Mapping):
            return []
        return await self._item_levels(item, variables)

    async def _item_levels(
        self, item: Mapping[str, Any], base: Mapping[str, Any]
    ) -> list[InventoryLevel]:
        sku = item.get("sku")
        if not sku:
            return []
        self.sku_cache[str(item["id"])] = str(sku)
        connection = item.get("inventoryLevels") or {}
        level_nodes = list(mapping.nodes(connection))
        info = connection.get("pageInfo") or {}
        if info.get("hasNextPage"):
            level_nodes += await self._more_levels(item, info.get("endCursor"), base)
        levels = (mapping.inventory_level(str(sku), node) for node in level_nodes)
        return [level for level in levels if level is not None]

    def adopt_sku_map(self, refs: Mapping[str, Mapping[str, str]]) -> int:
        """The gateway's catalog map's inventory items (webhooks name items, not SKUs)."""
        self.sku_cache.update(refs.get("inventory_item", {}))
        return len(self.sku_cache)

    async def refresh_sku_cache(self) -> int:
        """Read every inventory item's SKU (252 points per 250 items). Returns items read."""
        count = 0
        async for items in self._pages(
            queries.INVENTORY_ITEM_SKUS,
            {"first": MAX_PAGE},
            "inventoryItems",
            operation="inventory_item_skus",
        ):
            for item in items:
                if item.get("sku"):
                    self.sku_cache[str(item["id"])] = str(item["sku"])
                    count += 1
        return count

    # --- helpers -----------------------------------------------------------------------------

    async def _run(self, jobs: Sequence[tuple[int, Callable[[], Awaitable[T]]]]) -> list[T]:
        """Run independent calls concurrently when the bucket can take them all at once;
        otherwise one after the other.

        Past one bucketful, concurrency cannot make the shop answer sooner (the bucket's
        refill sets the pace either way), but it would start every call's throttle deadline
        at once, so the later ones would fail although each would succeed in its turn.
        ``jobs`` pairs each call's requested cost (of its first request) with the call.
        """
        capacity = self.client.bucket.capacity or MAX_QUERY_COST
        if sum(cost for cost, _ in jobs) <= capacity:
            return await _gather(job() for _, job in jobs)
        return [await job() for _, job in jobs]

    async def _fan_out(
        self, document: str, variables: Sequence[dict[str, Any]], *, operation: str
    ) -> list[dict[str, Any]]:
        """One query per variable set, run by :meth:`_run`."""
        return await self._run(
            [
                (
                    self.client.cost(document, v),
                    functools.partial(self.client.query, document, v, operation=operation),
                )
                for v in variables
            ]
        )

    async def _pages(
        self,
        document: str,
        variables: Mapping[str, Any],
        root: str,
        *,
        operation: str,
        after: str | None = None,
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Follow ``pageInfo.endCursor`` of the ``root`` connection, one call per page,
        starting after the cursor ``after`` (from the beginning without one)."""
        cursor = after
        while True:
            data = await self.client.query(
                document, {**variables, "after": cursor}, operation=operation
            )
            connection = data.get(root) or {}
            yield mapping.nodes(connection)
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            if not cursor:
                return

    def _order_page_size(self, people: int) -> int:
        """Orders per page for a search covering ``people`` customers or emails.

        Shopify charges the *requested* cost up front, so a page sized for the whole bucket
        blocks every other query of the shop until it is refunded. Most people have a few
        orders: asking for ``orders_per_person`` each keeps a one-customer 360 at a small
        fraction of the bucket (its customer, order and guest-order queries then run side by
        side), while a batch of fifty still fills pages to the cost limit."""
        largest = self._page_size(
            queries.SEARCH_ORDERS, {"lineItems": self.config.line_items_per_order}
        )
        return max(1, min(largest, people * self.config.orders_per_person))

    def _page_size(self, document: str, variables: Mapping[str, Any]) -> int:
        """The largest ``first`` (≤ 250) keeping the document under the cost limit."""
        return self._largest(
            lambda n: self.client.cost(document, {**variables, "first": n}), MAX_PAGE
        )

    def _batch_size(self, document: str, key: str, variables: Mapping[str, Any]) -> int:
        """The most ids (≤ 250) one ``nodes(ids:)`` call can take under the cost limit."""
        return self._largest(
            lambda n: self.client.cost(document, {**variables, key: ["x"] * n}), MAX_PAGE
        )

    def _largest(
        self, cost_of: Callable[[int], int], ceiling: int, *, limit: int | None = None
    ) -> int:
        """Costs grow linearly with the size, so two evaluations give the answer. The limit
        is Shopify's per-query maximum, or the shop's bucket if that is smaller (or the
        ``limit`` given)."""
        if limit is None:
            limit = min(MAX_QUERY_COST, int(self.client.bucket.capacity or MAX_QUERY_COST))
        one, zero = cost_of(1), cost_of(0)
        step = max(1, one - zero)
        size = min(ceiling, (limit - zero) // step)
        if size < 1:
            raise ValueError("even one element exceeds the query cost limit")
        return size


def _by_gid(kind: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Global id -> the ids the caller used for it (usually just itself), in order.

    Ids that cannot name a ``kind`` record (another kind's global id, not a number) are
    dropped here: Shopify fails a whole ``nodes(ids:)`` call on one malformed id, and they
    would be absent from the answer anyway.
    """
    wanted: dict[str, list[str]] = {}
    for asked in ids:
        if not asked:
            continue
        global_id = gid(kind, asked)
        if gid_kind(global_id) != kind or not numeric_id(global_id).isdigit():
            continue
        wanted.setdefault(global_id, []).append(asked)
    return wanted


def _by_email(emails: Iterable[str]) -> dict[str, list[str]]:
    """Lower-cased email -> the spellings the caller used for it (Shopify matches emails
    without regard to case)."""
    wanted: dict[str, list[str]] = {}
    for email in emails:
        if email and email.strip():
            wanted.setdefault(email.strip().lower(), []).append(email)
    return wanted


def _customers_as_asked(
    wanted: Mapping[str, list[str]], nodes: Iterable[object]
) -> dict[str, CustomerRecord]:
    found: dict[str, CustomerRecord] = {}
    for node in nodes:
        if isinstance(node, Mapping) and node.get("id") in wanted:
            record = mapping.customer(node)
            for asked in wanted[record.id]:
                found[asked] = record
    return found


def _orders_as_asked(
    asked: Iterable[str],
    wanted: Mapping[str, list[str]],
    orders: Iterable[OrderRecord],
    key: Callable[[OrderRecord], str],
) -> dict[str, list[OrderRecord]]:
    """Orders grouped under every spelling the caller used for their ``key`` (an empty
    list for what found nothing)."""
    result: dict[str, list[OrderRecord]] = {a: [] for a in asked}
    for record in orders:
        for a in wanted.get(key(record), ()):
            result[a].append(record)
    return result


def _customer_of(order: OrderRecord) -> str:
    return order.customer_id or ""


def _email_of(order: OrderRecord) -> str:
    return (order.email or "").lower()


def _has_next(connection: object) -> bool:
    info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
    return bool(isinstance(info, Mapping) and info.get("hasNextPage"))


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _gather(calls: Iterable[Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*calls))


__all__ = ["ShopifyConfig", "ShopifyConnector", "location_id"]
