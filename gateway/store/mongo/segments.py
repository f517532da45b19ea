"""Segment facts on MongoDB (collection ``segment_facts``, keyed by profile id).

A filter tree becomes one query document (:func:`to_query`), ANDed with ``live: true`` so
tombstones never match; a page is that query sorted by ``_id`` after the cursor, and the
total one ``count_documents`` of it. Each field a filter can name has an index
(:data:`INDEXES`; the set fields are multikey), so the planner can start from the most
selective condition. Amounts are ``Decimal128``, so ranges on them compare exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson.decimal128 import Decimal128
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from connectors.records import Channel, Source
from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.timeutil import to_utc_or_none
from resolvers.store.segments import (
    All,
    AnyOf,
    AnyPart,
    Equals,
    FactsPage,
    Field,
    Filter,
    OrderFact,
    OrderLine,
    SegmentFacts,
)

#: One index per field a filter can name, each led by ``live`` (every query has it).
INDEXES = [IndexModel([("live", ASCENDING), (f.value, ASCENDING)], name=f.value) for f in Field]
#: The analytics figures start from the orders placed in a period (multikey).
INDEXES.append(
    IndexModel([("live", ASCENDING), ("orders.placed_at", ASCENDING)], name="orders_placed_at")
)

_OPERATORS = (("gte", "$gte"), ("gt", "$gt"), ("lte", "$lte"), ("lt", "$lt"))


def _bson(value: Any) -> Any:
    if isinstance(value, Decimal):
        return Decimal128(value)
    return value


def to_query(where: Filter) -> Doc:
    """The query document for ``where``, meaning what :func:`~resolvers.store.segments.
    matches` means: a range never matches a missing value (``null`` is not compared with
    numbers or dates in MongoDB either), ``$in`` on an array is "shares a value"."""
    if isinstance(where, All):
        return {"$and": [to_query(p) for p in where.parts]}
    if isinstance(where, AnyPart):
        return {"$or": [to_query(p) for p in where.parts]}
    name = where.field.value
    if isinstance(where, Equals):
        return {name: where.value}
    if isinstance(where, AnyOf):
        return {name: {"$in": sorted(where.values)}}
    bounds = {op: _bson(getattr(where, attr)) for attr, op in _OPERATORS}
    return {name: {op: v for op, v in bounds.items() if v is not None}}


def _document(facts: SegmentFacts) -> Doc:
    if not facts.live:
        return {"_id": facts.profile_id, "version": facts.version, "live": False}
    return {
        "_id": facts.profile_id,
        "version": facts.version,
        "live": True,
        "channels": sorted(c.value for c in facts.channels),
        "channel_mix": facts.channel_mix.value,
        "lifetime_value": Decimal128(facts.lifetime_value),
        "currency": facts.currency,
        "order_count": facts.order_count,
        "first_order_at": to_utc_or_none(facts.first_order_at),
        "last_order_at": to_utc_or_none(facts.last_order_at),
        "favourite_location_id": facts.favourite_location_id,
        "email_consent": facts.email_consent,
        "sms_consent": facts.sms_consent,
        "sources": sorted(facts.sources),
        "skus": sorted(facts.skus),
        "locations": sorted(facts.locations),
        "loyalty_tier": facts.loyalty_tier,
        "loyalty_points": facts.loyalty_points,
        "orders": [_order_document(o) for o in facts.orders],
    }


def _order_document(order: OrderFact) -> Doc:
    return {
        "key": order.order_key,
        "channel": order.channel.value,
        "location_id": order.location_id,
        "placed_at": to_utc_or_none(order.placed_at),
        "total": Decimal128(order.total),
        "currency": order.currency,
        "lines": [
            {"sku": li.sku, "quantity": li.quantity, "amount": Decimal128(li.amount)}
            for li in order.lines
        ],
    }


def _decimal(value: Any) -> Decimal:
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(value)


def _order_from(raw: Doc) -> OrderFact:
    return OrderFact(
        order_key=raw["key"],
        channel=Channel(raw["channel"]),
        location_id=raw.get("location_id"),
        placed_at=raw["placed_at"],
        total=_decimal(raw["total"]),
        currency=raw.get("currency", "USD"),
        lines=tuple(
            OrderLine(li["sku"], int(li["quantity"]), _decimal(li["amount"]))
            for li in raw.get("lines", [])
        ),
    )


def _facts_from(raw: Doc) -> SegmentFacts:
    if not raw.get("live"):
        return SegmentFacts(profile_id=raw["_id"], version=int(raw["version"]), live=False)
    value = raw["lifetime_value"]
    first: datetime | None = raw.get("first_order_at")
    last: datetime | None = raw.get("last_order_at")
    return SegmentFacts(
        profile_id=raw["_id"],
        version=int(raw["version"]),
        channels=frozenset(Channel(c) for c in raw.get("channels", [])),
        lifetime_value=value.to_decimal() if isinstance(value, Decimal128) else Decimal(value),
        currency=raw.get("currency", "USD"),
        order_count=int(raw.get("order_count", 0)),
        first_order_at=first,
        last_order_at=last,
        favourite_location_id=raw.get("favourite_location_id"),
        email_consent=bool(raw.get("email_consent")),
        sms_consent=bool(raw.get("sms_consent")),
        sources=frozenset(Source(s) for s in raw.get("sources", [])),
        skus=frozenset(raw.get("skus", [])),
        locations=frozenset(raw.get("locations", [])),
        loyalty_tier=raw.get("loyalty_tier"),
        loyalty_points=raw.get("loyalty_points"),
        orders=tuple(_order_from(o) for o in raw.get("orders", [])),
    )


class MongoSegments:
    """The :class:`~resolvers.store.SegmentFactStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._facts = backend.collection("segment_facts")

    async def prepare(self) -> None:
        await self._facts.create_indexes(INDEXES)

    @mapped
    async def put_facts(self, facts: SegmentFacts) -> bool:
        """One conditional upsert: the filter matches only an older version, so over the
        same or a newer one the upsert's insert hits the ``_id`` index and is refused. A
        refusal on the first try may also be two first writes racing (both found nothing,
        one inserted): the second try then updates the other's document if it is older."""
        document = _document(facts)
        document.pop("_id")
        if not facts.live:
            # Unset what the live facts had: a tombstone keeps no facts about anyone.
            unset = {name: "" for name in _LIVE_ONLY}
        for attempt in range(2):
            update: Doc = {"$set": document}
            if not facts.live:
                update["$unset"] = unset
            try:
                result = await self._facts.update_one(
                    {"_id": facts.profile_id, "version": {"$lt": facts.version}},
                    update,
                    upsert=True,
                )
            except DuplicateKeyError:
                if attempt:
                    return False
                continue
            return result.matched_count > 0 or result.upserted_id is not None
        return False

    @mapped
    async def buyers_between(self, since: datetime, until: datetime) -> list[SegmentFacts]:
        """One find on the ``orders_placed_at`` index (``live``, ``orders.placed_at``)."""
        query = {
            "live": True,
            "orders": {"$elemMatch": {"placed_at": {"$gte": since, "$lt": until}}},
        }
        return [_facts_from(raw) async for raw in self._facts.find(query)]

    @mapped
    async def get_facts(self, profile_ids: Sequence[str]) -> dict[str, SegmentFacts]:
        if not profile_ids:
            return {}
        found = {
            raw["_id"]: _facts_from(raw)
            async for raw in self._facts.find({"_id": {"$in": list(dict.fromkeys(profile_ids))}})
        }
        return {i: found[i] for i in profile_ids if i in found}

    @mapped
    async def find_facts(self, where: Filter, *, first: int, after: str | None = None) -> FactsPage:
        query: Doc = {"$and": [{"live": True}, to_query(where)]}
        total = await self._facts.count_documents(query)
        page_query = query if after is None else {"$and": [*query["$and"], {"_id": {"$gt": after}}]}
        raws = [
            raw
            async for raw in self._facts.find(page_query).sort("_id", ASCENDING).limit(first + 1)
        ]
        return FactsPage(
            facts=[_facts_from(raw) for raw in raws[:first]],
            has_next=len(raws) > first,
            total=total,
        )


#: The fields only live facts have: a tombstone unsets them all.
_LIVE_ONLY = sorted(set(_document(SegmentFacts("", 0))) - {"_id", "version", "live"})
