"""Pickup and stock figures on MongoDB: one aggregation over ``holds`` (index
``created_at_location``), and two over ``stock_journal`` (TTL index ``at_ttl``): the
period's entries grouped per level, and each level's last entry before the period. The
walk over one level's entries is :func:`resolvers.store.inventory_figures.level_stock`'s,
so both stores share the definitions; a level's entries in a period are few (one per
change), and the journal only keeps its retention (24 h by default), so the figures only
see what is retained."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from gateway.store.mongo.base import Doc
from gateway.store.mongo.stock_journal import change_from
from gateway.store.timeutil import to_utc
from resolvers.model import HoldStatus, StockChange
from resolvers.store.inventory_figures import HoldFigures, SkuStock, level_stock, top_skus

HOLD_INDEXES = [
    IndexModel([("created_at", ASCENDING), ("location_id", ASCENDING)], name="created_at_location")
]


def _count(statuses: Sequence[HoldStatus], value: Any = 1) -> Doc:
    return {"$sum": {"$cond": [{"$in": ["$status", [s.value for s in statuses]]}, value, 0]}}


async def hold_figures(
    holds: AsyncCollection[Doc],
    since: datetime,
    until: datetime,
    location_ids: Sequence[str] | None,
) -> list[HoldFigures]:
    match: Doc = {"created_at": {"$gte": to_utc(since), "$lt": to_utc(until)}}
    if location_ids is not None:
        match["location_id"] = {"$in": list(dict.fromkeys(location_ids))}
    done = [HoldStatus.COMPLETED, HoldStatus.SETTLED]
    pipeline: list[Doc] = [
        {"$match": match},
        {
            "$group": {
                "_id": "$location_id",
                "holds": {"$sum": 1},
                "units": {"$sum": "$quantity"},
                "completed": _count(done),
                "expired": _count([HoldStatus.EXPIRED]),
                "released": _count([HoldStatus.RELEASED]),
                "active": _count([HoldStatus.ACTIVE]),
                "units_picked_up": _count(done, "$quantity"),
            }
        },
        {"$sort": {"_id": 1}},
    ]
    cursor = await holds.aggregate(pipeline)
    return [
        HoldFigures(
            location_id=raw["_id"],
            **{name: int(value) for name, value in raw.items() if name != "_id"},
        )
        async for raw in cursor
    ]


async def stock_figures(
    journal: AsyncCollection[Doc],
    since: datetime,
    until: datetime,
    location_ids: Sequence[str] | None,
    first: int,
) -> list[SkuStock]:
    start, end = to_utc(since), to_utc(until)
    where: Doc = {}
    if location_ids is not None:
        where["location_id"] = {"$in": list(dict.fromkeys(location_ids))}
    during: dict[tuple[str, str], list[StockChange]] = {}
    grouped = await journal.aggregate(
        [
            {"$match": {**where, "at": {"$gte": start, "$lt": end}}},
            {"$sort": {"_id": 1}},
            {
                "$group": {
                    "_id": {"location_id": "$location_id", "sku": "$sku"},
                    "entries": {"$push": "$$ROOT"},
                }
            },
        ]
    )
    async for raw in grouped:
        key = (raw["_id"]["location_id"], raw["_id"]["sku"])
        during[key] = [change_from(entry) for entry in raw["entries"]]
    before: dict[tuple[str, str], StockChange] = {}
    if during:
        last = await journal.aggregate(
            [
                {
                    "$match": {
                        **where,
                        "sku": {"$in": sorted({sku for _, sku in during})},
                        "at": {"$lt": start},
                    }
                },
                {"$sort": {"_id": 1}},
                {
                    "$group": {
                        "_id": {"location_id": "$location_id", "sku": "$sku"},
                        "entry": {"$last": "$$ROOT"},
                    }
                },
            ]
        )
        async for raw in last:
            before[(raw["_id"]["location_id"], raw["_id"]["sku"])] = change_from(raw["entry"])
    rows = [level_stock(before.get(key), entries, start, end) for key, entries in during.items()]
    return top_skus((row for row in rows if row is not None), first)
