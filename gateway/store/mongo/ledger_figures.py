"""The cross-channel loyalty figures as one MongoDB aggregation over the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from gateway.store.mongo.base import Doc
from gateway.store.timeutil import to_utc
from resolvers.store.ledger import (
    EARNED_IN_CHANNEL,
    REDEEMED_IN_CHANNEL,
    LedgerFigures,
    MemberChannel,
    figures,
)


async def read_figures(
    ledger: AsyncCollection[Doc], since: datetime, until: datetime
) -> LedgerFigures:
    """One aggregation: the entries of the summed kinds before ``until`` (index
    ``kind_at``), summed per member and channel, then gathered per member; the
    allocation across channels is :func:`resolvers.store.ledger.figures`'s."""
    start, end = to_utc(since), to_utc(until)
    earned_kinds = sorted(k.value for k in EARNED_IN_CHANNEL)
    redeemed_kinds = sorted(k.value for k in REDEEMED_IN_CHANNEL)
    in_period = {"$gte": ["$at", start]}
    earned: Any = {
        "$cond": [
            {
                "$and": [
                    {"$in": ["$kind", earned_kinds]},
                    # The EARN that settles a pending earn was counted as pending.
                    {"$not": [{"$and": [{"$eq": ["$kind", "earn"]}, "$settles"]}]},
                ]
            },
            "$points",
            0,
        ]
    }
    redeemed: Any = {
        "$cond": [{"$in": ["$kind", redeemed_kinds]}, {"$subtract": [0, "$points"]}, 0]
    }
    pipeline: list[Doc] = [
        {
            "$match": {
                "kind": {"$in": earned_kinds + redeemed_kinds},
                "at": {"$lt": end},
            }
        },
        {
            "$group": {
                "_id": {"account": "$account_id", "channel": "$channel"},
                "earned": {"$sum": {"$cond": [in_period, earned, 0]}},
                "earned_before": {"$sum": earned},
                "redeemed": {"$sum": {"$cond": [in_period, redeemed, 0]}},
            }
        },
        {
            "$group": {
                "_id": "$_id.account",
                "channels": {
                    "$push": {
                        "channel": "$_id.channel",
                        "earned": "$earned",
                        "earned_before": "$earned_before",
                        "redeemed": "$redeemed",
                    }
                },
            }
        },
    ]
    members: list[list[MemberChannel]] = []
    cursor = await ledger.aggregate(pipeline)
    async for raw in cursor:
        members.append(
            [
                MemberChannel(
                    channel=row.get("channel"),
                    earned=int(row.get("earned") or 0),
                    earned_before=int(row.get("earned_before") or 0),
                    redeemed=int(row.get("redeemed") or 0),
                )
                for row in raw["channels"]
            ]
        )
    return figures(members, since=since, until=until)
