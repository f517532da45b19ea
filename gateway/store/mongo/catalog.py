"""The catalog on MongoDB (collection ``catalog``): one document per SKU, ``_id`` the SKU.

Documents: ``{_id: sku, sku_lc, title, title_lc, price (decimal string), currency,
refs: [[kind, id], ...], ref_keys: ["kind|id", ...], seen_at}``. ``_id`` is the unique index
on the SKU; ``sku_lc`` and ``title_lc`` are indexed so an anchored, case-sensitive regex on
them (a prefix of the lower-cased text) is an index range scan; ``ref_keys`` (multikey)
answers "which SKU is this Square variation" without a scan. Refs are pairs, not a
sub-document, because their kinds contain dots.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING, UpdateOne

from gateway.store.mongo.base import Doc, MongoBackend, mapped
from resolvers.store.catalog import CatalogEntry


def ref_key(kind: str, id_: str) -> str:
    return f"{kind}|{id_}"


def to_doc(entry: CatalogEntry) -> Doc:
    sku_lc, title_lc = entry.search_keys
    refs = sorted(entry.refs.items())
    return {
        "sku_lc": sku_lc,
        "title": entry.title,
        "title_lc": title_lc,
        "price": None if entry.price is None else str(entry.price),
        "currency": entry.currency,
        "refs": [list(pair) for pair in refs],
        "ref_keys": [ref_key(kind, id_) for kind, id_ in refs],
    }


def from_doc(raw: Doc) -> CatalogEntry:
    price = raw.get("price")
    return CatalogEntry(
        sku=str(raw["_id"]),
        title=str(raw.get("title") or ""),
        seen_at=raw["seen_at"],
        refs={str(kind): str(id_) for kind, id_ in raw.get("refs") or []},
        price=Decimal(price) if price is not None else None,
        currency=raw.get("currency"),
    )


class MongoCatalog:
    """The :class:`~resolvers.store.catalog.CatalogStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._backend = backend
        self._catalog = backend.collection("catalog")

    async def prepare(self) -> None:
        await self._backend.ensure_collections(self._catalog.name)
        await self._catalog.create_index([("sku_lc", ASCENDING)], name="sku_lc")
        await self._catalog.create_index([("title_lc", ASCENDING)], name="title_lc")
        await self._catalog.create_index([("ref_keys", ASCENDING)], name="ref_keys")
        await self._catalog.create_index([("seen_at", ASCENDING)], name="seen_at")

    @mapped
    async def put_entries(self, entries: Sequence[CatalogEntry]) -> int:
        if not entries:
            return 0
        latest = {entry.sku: entry for entry in entries}
        # Two bulk writes: the first reports only real changes (MongoDB counts an update
        # that sets the stored values as not modified), the second moves ``seen_at``.
        result = await self._catalog.bulk_write(
            [
                UpdateOne({"_id": sku}, {"$set": to_doc(entry)}, upsert=True)
                for sku, entry in latest.items()
            ],
            ordered=False,
        )
        for seen_at in {entry.seen_at for entry in latest.values()}:
            skus = [sku for sku, e in latest.items() if e.seen_at == seen_at]
            await self._catalog.update_many({"_id": {"$in": skus}}, {"$set": {"seen_at": seen_at}})
        return result.upserted_count + result.modified_count

    @mapped
    async def get_entries(self, skus: Sequence[str]) -> list[CatalogEntry]:
        if not skus:
            return []
        cursor = self._catalog.find({"_id": {"$in": list(dict.fromkeys(skus))}}).sort(
            "_id", ASCENDING
        )
        return [from_doc(raw) async for raw in cursor]

    @mapped
    async def search_entries(
        self, prefix: str | None = None, *, after: str | None = None, limit: int = 50
    ) -> list[CatalogEntry]:
        if limit <= 0:
            return []
        query: dict[str, Any] = {}
        if prefix:
            anchored = {"$regex": "^" + re.escape(prefix.lower())}
            query["$or"] = [{"sku_lc": anchored}, {"title_lc": anchored}]
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self._catalog.find(query).sort("_id", ASCENDING).limit(limit)
        return [from_doc(raw) async for raw in cursor]

    @mapped
    async def skus_for_refs(self, kind: str, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        keys = {ref_key(kind, id_): id_ for id_ in ids}
        found: dict[str, str] = {}
        async for raw in self._catalog.find({"ref_keys": {"$in": list(keys)}}, {"ref_keys": 1}):
            for key in raw.get("ref_keys") or []:
                if key in keys:
                    found[keys[key]] = str(raw["_id"])
        return found

    @mapped
    async def remove_unseen(self, before: datetime) -> int:
        result = await self._catalog.delete_many({"seen_at": {"$lt": before}})
        return result.deleted_count

    @mapped
    async def count_entries(self) -> int:
        return await self._catalog.count_documents({})
