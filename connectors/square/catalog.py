"""Item variation id <-> SKU, cached.

Square's inventory counts and order line items name a ``catalog_object_id`` (an item
variation); Omnigate keys stock by SKU, the join key with Shopify. A variation's SKU rarely
changes, so each id is looked up once: ``BatchRetrieveCatalogObjects`` for ids (1,000 a call),
``SearchCatalogObjects`` with a ``set_query`` on ``sku`` for SKUs (250 a call). Ids Square
does not know, and variations without a SKU, are remembered too, so a miss is not refetched
on every request. Webhook parsing reads the cache synchronously and never calls out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.square.client import (
    CATALOG_BATCH_LIMIT,
    CATALOG_SET_QUERY_VALUES,
    SquareClient,
    chunks,
)


class CatalogCache:
    def __init__(self, client: SquareClient | None = None) -> None:
        self._client = client
        self._sku_by_variation: dict[str, str | None] = {}
        self._variations_by_sku: dict[str, list[str]] = {}
        #: SKUs searched for and not found, lower-cased (Square matches SKUs case-insensitively).
        self._missing_skus: set[str] = set()
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._sku_by_variation)

    def sku_of(self, variation_id: str) -> str | None:
        """The cached SKU of a variation; ``None`` when unknown or SKU-less."""
        return self._sku_by_variation.get(variation_id)

    def knows(self, variation_id: str) -> bool:
        return variation_id in self._sku_by_variation

    def learn(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Cache every item variation in ``objects`` (also those nested in items)."""
        for obj in objects:
            if obj.get("type") == "ITEM":
                nested = (obj.get("item_data") or {}).get("variations") or []
                self.learn(v for v in nested if isinstance(v, Mapping))
                continue
            if obj.get("type") != "ITEM_VARIATION" or not isinstance(obj.get("id"), str):
                continue
            variation_id = obj["id"]
            data = obj.get("item_variation_data") or {}
            sku = data.get("sku") if isinstance(data.get("sku"), str) and data["sku"] else None
            if obj.get("is_deleted"):
                sku = None
            self._remember(variation_id, sku)

    def adopt(self, skus: Mapping[str, str]) -> None:
        """Variation id -> SKU from the gateway's catalog map."""
        for variation_id, sku in skus.items():
            self._remember(variation_id, sku)

    def clear(self) -> None:
        """Drop everything, e.g. after the catalog changed (``catalog.version.updated``)."""
        self._sku_by_variation.clear()
        self._variations_by_sku.clear()
        self._missing_skus.clear()

    def forget(self, variation_id: str) -> None:
        sku = self._sku_by_variation.pop(variation_id, None)
        if sku is not None:
            ids = self._variations_by_sku.get(sku.lower(), [])
            if variation_id in ids:
                ids.remove(variation_id)

    async def skus_for(self, variation_ids: Iterable[str]) -> dict[str, str]:
        """SKUs of the given variations (those that have one), fetching unknown ids."""
        wanted = list(dict.fromkeys(v for v in variation_ids if v))
        missing = [v for v in wanted if v not in self._sku_by_variation]
        if missing and self._client is not None:
            async with self._lock:
                missing = [v for v in missing if v not in self._sku_by_variation]
                if missing:
                    await self._fetch_ids(missing)
        return {v: sku for v in wanted if (sku := self._sku_by_variation.get(v)) is not None}

    async def variations_for(self, skus: Iterable[str]) -> dict[str, list[str]]:
        """Variation ids per SKU (as asked), searching the catalog for SKUs not cached."""
        wanted = list(dict.fromkeys(s for s in skus if s))
        unknown = [s for s in wanted if not self._known_sku(s)]
        if unknown and self._client is not None:
            async with self._lock:
                unknown = [s for s in unknown if not self._known_sku(s)]
                if unknown:
                    await self._search_skus(unknown)
        result: dict[str, list[str]] = {}
        for sku in wanted:
            ids = self._variations_by_sku.get(sku.lower())
            if ids:
                result[sku] = list(ids)
        return result

    def _known_sku(self, sku: str) -> bool:
        key = sku.lower()
        return bool(self._variations_by_sku.get(key)) or key in self._missing_skus

    def _remember(self, variation_id: str, sku: str | None) -> None:
        self.forget(variation_id)
        self._sku_by_variation[variation_id] = sku
        if sku is not None:
            key = sku.lower()
            self._missing_skus.discard(key)
            ids = self._variations_by_sku.setdefault(key, [])
            if variation_id not in ids:
                ids.append(variation_id)

    async def _fetch_ids(self, ids: Sequence[str]) -> None:
        assert self._client is not None
        client = self._client
        responses = await asyncio.gather(
            *(client.batch_retrieve_catalog(batch) for batch in chunks(ids, CATALOG_BATCH_LIMIT))
        )
        for response in responses:
            self.learn(o for o in response.get("objects") or [] if isinstance(o, Mapping))
        for variation_id in ids:
            # Unknown to Square (deleted, or not a variation): remember the miss.
            self._sku_by_variation.setdefault(variation_id, None)

    async def _search_skus(self, skus: Sequence[str]) -> None:
        assert self._client is not None
        client = self._client

        async def search(batch: list[str]) -> None:
            async for page in client.search_variations_by_sku(batch):
                self.learn(o for o in page.get("objects") or [] if isinstance(o, Mapping))

        await asyncio.gather(*(search(b) for b in chunks(skus, CATALOG_SET_QUERY_VALUES)))
        for sku in skus:
            if not self._variations_by_sku.get(sku.lower()):
                self._missing_skus.add(sku.lower())
