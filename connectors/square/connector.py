"""The Square POS connector: customers, orders, locations and inventory from Square REST v2.

Implements ``CustomerSource``, ``OrderSource``, ``LocationSource`` and ``InventorySource``.
Every method is batched to Square's per-call limits and sends the batches concurrently:

- customers by id: ``BulkRetrieveCustomers``, 100 ids a call (300 ids -> 3 calls);
- orders of customers: ``SearchOrders`` takes at most 10 customer ids *and* 10 location ids,
  so the calls are ceil(customers/10) x ceil(locations/10) (25 customers at 12 locations -> 6),
  plus one ``ListLocations`` the first time (cached);
- SKUs: the catalog cache (:mod:`connectors.square.catalog`) resolves the variation ids that
  inventory counts and order lines name;
- inventory: ``BatchRetrieveInventoryCounts`` for all variations and locations at once.

Location ids leave the connector unified (``location_map``, else ``square:<id>``) and come in
unified too (``inventory_levels(location_ids=...)``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from connectors.http import HttpClient, HttpConfig, Sleep
from connectors.metrics import RequestCounter
from connectors.records import (
    CatalogVariant,
    CustomerRecord,
    InventoryLevel,
    LocationRecord,
    OrderRecord,
)
from connectors.square import mapping
from connectors.square.catalog import CatalogCache
from connectors.square.client import (
    CUSTOMER_BULK_LIMIT,
    INVENTORY_IDS_PER_CALL,
    ORDER_BATCH_LIMIT,
    ORDER_SEARCH_IDS,
    SquareClient,
    chunks,
)
from connectors.square.errors import classify
from connectors.square.locations import LocationMap
from connectors.square.source import SOURCE
from connectors.square.webhooks import SquareWebhooks
from connectors.warmup import Warmup

log = logging.getLogger("omnigate.connectors.square")

DEFAULT_SQUARE_VERSION = "2025-08-20"

#: Connections to Square. Square publishes no fixed rate, only that a burst beyond its limit
#: answers 429 ``RATE_LIMITED`` (and each such answer costs a ``Retry-After`` wait); the
#: connector batches (100 customers, 10 customer and 10 location ids a call), so a 360 needs
#: a handful of calls, and ten at once keeps bursts modest while serving several 360s.
MAX_CONNECTIONS = 10

#: Levels per list of a full inventory read (what one store batch takes).
LEVELS_PER_LIST = 500


@dataclass(frozen=True, slots=True)
class SquareConfig:
    http: HttpConfig
    access_token: str
    square_version: str = DEFAULT_SQUARE_VERSION
    webhook_signature_key: str | None = None
    #: Square location id -> unified location id; unmapped ones become ``square:<id>``.
    location_map: dict[str, str] = field(default_factory=dict)
    #: The notification URL Square signs; when unset the gateway passes the one it knows.
    webhook_notification_url: str | None = None
    #: Region for phones searched without a country code (Square matches E.164 only).
    default_phone_region: str = "US"
    #: Lower-case substrings of ``source.name`` that make an order ``ONLINE``.
    online_source_markers: tuple[str, ...] = mapping.ONLINE_SOURCE_MARKERS
    #: Order states read as history (Square: OPEN, COMPLETED, CANCELED, DRAFT).
    order_states: tuple[str, ...] = ("COMPLETED",)
    #: Load every item variation's SKU in the background at start, so webhooks can name SKUs.
    warm_catalog_on_start: bool = True
    #: Pool size; replaces ``http.max_connections`` (see :data:`MAX_CONNECTIONS`).
    max_connections: int = MAX_CONNECTIONS


class SquareConnector:
    """Square REST v2 behind Omnigate's capability protocols."""

    source = SOURCE

    def __init__(
        self,
        config: SquareConfig,
        *,
        counter: RequestCounter | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        http_config = replace(
            config.http,
            max_connections=config.max_connections,
            default_headers={
                **config.http.default_headers,
                "Authorization": f"Bearer {config.access_token}",
                "Square-Version": config.square_version,
                "Accept": "application/json",
            },
        )
        self.http = HttpClient(
            http_config,
            source=SOURCE,
            counter=counter,
            classify=classify,
            sleep=sleep,
        )
        self.client = SquareClient(self.http)
        self.catalog = CatalogCache(self.client)
        self.locations = LocationMap(config.location_map)
        self._square_locations: list[dict[str, Any]] | None = None
        self._locations_lock = asyncio.Lock()
        self._warmup = Warmup("square catalog", self._learn_catalog)
        self.webhooks: SquareWebhooks | None = (
            SquareWebhooks(
                config.webhook_signature_key,
                config.webhook_notification_url,
                catalog=self.catalog,
                locations=self.locations,
                on_location_change=self.forget_locations,
            )
            if config.webhook_signature_key
            else None
        )

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.http.start()
        if self.config.warm_catalog_on_start:
            self._warmup.start()

    async def close(self) -> None:
        await self._warmup.stop()
        await self.http.close()

    def circuit_state(self) -> str:
        return self.http.circuit_state()

    def adopt_sku_map(self, refs: Mapping[str, Mapping[str, str]]) -> int:
        """The gateway's catalog map's variations (counts and line items name variations)."""
        self.catalog.adopt(refs.get("variation", {}))
        return len(self.catalog)

    async def warm_catalog(self) -> int:
        """Cache the SKU of every item variation (one paginated catalog search); returns how
        many variations are cached. Awaits the start-up warm-up if it is running."""
        if self._warmup.running:
            await self._warmup.wait()
            return len(self.catalog)
        return await self._learn_catalog()

    async def _learn_catalog(self) -> int:
        async for page in self.client.all_variations():
            self.catalog.learn(o for o in page.get("objects") or [] if isinstance(o, dict))
        return len(self.catalog)

    # --- customers ---------------------------------------------------------------------------

    async def get_customers(self, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        wanted = list(dict.fromkeys(i for i in ids if i))
        if not wanted:
            return {}
        responses = await asyncio.gather(
            *(
                self.client.bulk_retrieve_customers(batch)
                for batch in chunks(wanted, CUSTOMER_BULK_LIMIT)
            )
        )
        found: dict[str, CustomerRecord] = {}
        for response in responses:
            for customer_id, entry in (response.get("responses") or {}).items():
                raw = entry.get("customer") if isinstance(entry, dict) else None
                if isinstance(raw, dict) and raw.get("id"):
                    found[str(customer_id)] = mapping.customer(raw)
        return found

    async def search_customers(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        name: str | None = None,
    ) -> list[CustomerRecord]:
        """Exact email (Square matches case-insensitively) or phone (E.164) matches.

        ``SearchCustomers`` filters one email or one phone per call, so each value is one
        call, all sent together. Square has no name filter: name lookups are served from
        Omnigate's own profile cache, and this returns nothing for a name alone.
        """
        queries: list[dict[str, Any]] = []
        for email in dict.fromkeys(e.strip() for e in emails if e and e.strip()):
            queries.append({"filter": {"email_address": {"exact": email}}})
        numbers: list[str] = []
        for phone in phones:
            e164 = self._e164(phone) if phone else None
            if e164 is None:
                log.debug("skipping a phone that is not a valid number")
            elif e164 not in numbers:
                numbers.append(e164)
        queries.extend({"filter": {"phone_number": {"exact": n}}} for n in numbers)
        if not queries:
            return []
        results = await asyncio.gather(*(self._search_all(q) for q in queries))
        merged: dict[str, CustomerRecord] = {}
        for records in results:
            for record in records:
                merged.setdefault(record.id, record)
        return list(merged.values())

    async def list_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[CustomerRecord]]:
        """Pages of customers updated at or after ``updated_since``.

        Square sorts customers by name or creation time, never by update time, so each page
        is sorted by ``updated_at`` here; a sync should checkpoint the newest ``updated_at``
        only after the last page.
        """
        query: dict[str, Any] = {"sort": {"field": "CREATED_AT", "order": "ASC"}}
        if updated_since is not None:
            since = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
            query["filter"] = {"updated_at": {"start_at": since.isoformat()}}
        async for page in self.client.search_customers(query):
            records = [
                mapping.customer(c) for c in page.get("customers") or [] if isinstance(c, dict)
            ]
            if records:
                records.sort(key=lambda r: r.updated_at or datetime.min.replace(tzinfo=UTC))
                yield records

    async def _search_all(self, query: dict[str, Any]) -> list[CustomerRecord]:
        records: list[CustomerRecord] = []
        async for page in self.client.search_customers(query):
            records.extend(
                mapping.customer(c) for c in page.get("customers") or [] if isinstance(c, dict)
            )
        return records

    def _e164(self, phone: str) -> str | None:
        try:
            parsed = phonenumbers.parse(phone, self.config.default_phone_region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(parsed):
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    # --- orders ------------------------------------------------------------------------------

    async def orders_for_customers(
        self, customer_ids: Sequence[str]
    ) -> Mapping[str, list[OrderRecord]]:
        wanted = list(dict.fromkeys(i for i in customer_ids if i))
        if not wanted:
            return {}
        location_ids = [str(loc["id"]) for loc in await self._locations()]
        if not location_ids:
            return {customer_id: [] for customer_id in wanted}
        searches = [
            self._search_orders(location_batch, customer_batch)
            for customer_batch in chunks(wanted, ORDER_SEARCH_IDS)
            for location_batch in chunks(location_ids, ORDER_SEARCH_IDS)
        ]
        raw: list[dict[str, Any]] = []
        for found in await asyncio.gather(*searches):
            raw.extend(found)
        records = await self._map_orders(raw)
        result: dict[str, list[OrderRecord]] = {customer_id: [] for customer_id in wanted}
        for record in records:
            if record.customer_id in result:
                result[record.customer_id].append(record)
        for orders in result.values():
            orders.sort(key=lambda o: o.created_at, reverse=True)
        return result

    async def get_orders(self, ids: Sequence[str]) -> Mapping[str, OrderRecord]:
        wanted = list(dict.fromkeys(i for i in ids if i))
        if not wanted:
            return {}
        responses = await asyncio.gather(
            *(
                self.client.batch_retrieve_orders(batch)
                for batch in chunks(wanted, ORDER_BATCH_LIMIT)
            )
        )
        raw = [o for r in responses for o in r.get("orders") or [] if isinstance(o, dict)]
        records = await self._map_orders(raw, keep_returns=True)
        asked = set(wanted)
        return {record.id: record for record in records if record.id in asked}

    async def _search_orders(
        self, location_ids: Sequence[str], customer_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async for page in self.client.search_orders(
            location_ids=location_ids,
            customer_ids=customer_ids,
            states=self.config.order_states,
        ):
            found.extend(o for o in page.get("orders") or [] if isinstance(o, dict))
        return found

    async def _map_orders(
        self, raw: list[dict[str, Any]], *, keep_returns: bool = False
    ) -> list[OrderRecord]:
        """Records for sale orders, with returns folded in. Return orders (Square's separate
        order for an itemized return) only appear as records when asked for by id."""
        unique = list({str(o.get("id")): o for o in raw if o.get("id")}.values())
        folded, returned, returned_money = mapping.fold_returns(unique)
        sales: Sequence[Mapping[str, Any]] = unique if keep_returns else folded
        variation_ids = [
            item["catalog_object_id"]
            for order in sales
            for item in order.get("line_items") or []
            if isinstance(item.get("catalog_object_id"), str)
        ]
        skus = await self.catalog.skus_for(variation_ids)
        return [
            mapping.order(
                order,
                self.locations,
                skus,
                returned=returned.get(str(order["id"])),
                returned_money=returned_money.get(str(order["id"])),
                markers=self.config.online_source_markers,
            )
            for order in sales
        ]

    # --- catalog -----------------------------------------------------------------------------

    async def list_variants(self) -> AsyncIterator[list[CatalogVariant]]:
        """Every item variation with a SKU, a page of items per call; what it reads also
        fills the connector's own SKU cache."""
        async for page in self.client.all_items():
            objects = [o for o in page.get("objects") or [] if isinstance(o, Mapping)]
            self.catalog.learn(objects)
            variants = [v for item in objects for v in mapping.catalog_variants(item)]
            if variants:
                yield variants

    # --- locations ---------------------------------------------------------------------------

    async def list_locations(self) -> list[LocationRecord]:
        return [mapping.location(loc, self.locations) for loc in await self._locations()]

    def forget_locations(self) -> None:
        """Drop the cached location list (a ``location.*`` webhook said it changed)."""
        self._square_locations = None

    async def _locations(self) -> list[dict[str, Any]]:
        cached = self._square_locations
        if cached is not None:
            return cached
        async with self._locations_lock:
            if self._square_locations is None:
                response = await self.client.list_locations()
                self._square_locations = [
                    loc
                    for loc in response.get("locations") or []
                    if isinstance(loc, dict) and loc.get("id")
                ]
            return self._square_locations

    # --- inventory ---------------------------------------------------------------------------

    async def inventory_levels(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[InventoryLevel]:
        """``IN_STOCK`` counts of the SKUs at the given unified locations (all if ``None``).

        Variations sharing one SKU, or Square locations mapped to one unified location, are
        added up into one level with the newest ``calculated_at``.
        """
        variations = await self.catalog.variations_for(skus)
        if not variations:
            return []
        square_locations: list[str] | None = None
        if location_ids is not None:
            known = [str(loc["id"]) for loc in await self._locations()]
            square_locations = self.locations.square_ids(location_ids, known)
            if not square_locations:
                return []
        sku_of = {vid: sku for sku, ids in variations.items() for vid in ids}
        all_ids = list(sku_of)

        async def fetch(batch: list[str]) -> list[dict[str, Any]]:
            counts: list[dict[str, Any]] = []
            async for page in self.client.inventory_counts(batch, square_locations):
                counts.extend(c for c in page.get("counts") or [] if isinstance(c, dict))
            return counts

        results = await asyncio.gather(*(fetch(b) for b in chunks(all_ids, INVENTORY_IDS_PER_CALL)))
        return self._levels((c for counts in results for c in counts), sku_of)

    async def list_inventory_levels(self) -> AsyncIterator[list[InventoryLevel]]:
        """Every ``IN_STOCK`` level at every location (warmup and reconciliation): one
        ``BatchRetrieveInventoryCounts`` without catalog or location ids, followed cursor
        page by cursor page, its variation ids mapped to SKUs through the catalog cache
        (unknown ones fetched in batches) and its locations through the location map.

        Counts are added up per SKU and unified location across the whole read (two
        variations of one SKU, or two Square locations mapped to one store, may sit on
        different pages), so the levels come after the last page, in lists of at most
        :data:`LEVELS_PER_LIST`."""
        counts: list[dict[str, Any]] = []
        async for page in self.client.all_inventory_counts():
            counts.extend(c for c in page.get("counts") or [] if isinstance(c, dict))
        variation_ids = [str(c.get("catalog_object_id")) for c in counts]
        sku_of = await self.catalog.skus_for(variation_ids)
        levels = self._levels(counts, sku_of)
        for start in range(0, len(levels), LEVELS_PER_LIST):
            yield levels[start : start + LEVELS_PER_LIST]

    def _levels(
        self, counts: Iterable[Mapping[str, Any]], sku_of: Mapping[str, str]
    ) -> list[InventoryLevel]:
        """Counts as levels, summed per (SKU, unified location), each with its newest
        ``calculated_at``."""
        totals: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"available": 0, "on_hand": 0}
        )
        newest: dict[tuple[str, str], datetime] = {}
        for count in counts:
            sku = sku_of.get(str(count.get("catalog_object_id")))
            if sku is None:
                continue
            level = mapping.inventory_level(dict(count), sku, self.locations)
            if level is None:
                continue
            key = (sku, level.location_id)
            for name, value in level.quantities.items():
                totals[key][name] += value
            if key not in newest or level.updated_at > newest[key]:
                newest[key] = level.updated_at
        return [
            InventoryLevel(
                source=SOURCE,
                sku=sku,
                location_id=location_id,
                quantities=dict(quantities),
                updated_at=newest[(sku, location_id)],
            )
            for (sku, location_id), quantities in totals.items()
        ]

    async def item_levels(self, item_ref: str) -> list[InventoryLevel]:
        """Every level of one item variation named by its id (a count webhook for a
        variation the catalog cache did not know yet): its SKU, then that SKU's levels."""
        sku = (await self.catalog.skus_for([item_ref])).get(item_ref)
        return await self.inventory_levels([sku]) if sku else []
