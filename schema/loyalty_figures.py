"""``loyaltyFigures(from, to)``: points earned and redeemed per channel and the share
redeemed in another channel than it was earned in (internal only). The rules are
:mod:`resolvers.loyalty.figures` and :func:`resolvers.store.ledger.figures`; this module
maps them out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers.context import RequestContext
from resolvers.loyalty import figures as use_case
from resolvers.store.ledger import ChannelPoints, LedgerFigures
from resolvers.viewer import Role
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]


@strawberry.type(description="Points of one channel.")
class LoyaltyChannelPoints:
    channel: str | None = strawberry.field(
        description="`online`, `in_store`, or null for entries that name no channel."
    )
    points: int

    @classmethod
    def of(cls, row: ChannelPoints) -> LoyaltyChannelPoints:
        return cls(channel=row.channel, points=row.points)


@strawberry.type(
    description="Loyalty across channels over a period `[from, to)`. Earned: points orders "
    "earned (settled or pending; a pending earn's settlement is not counted again) less what "
    "refunds clawed back. Redeemed: redemptions less their reversals. Adjustments, referral "
    "bonuses and expiry count as neither."
)
class LoyaltyFigures:
    since: datetime = strawberry.field(name="from")
    until: datetime = strawberry.field(name="to")
    earned_by_channel: list[LoyaltyChannelPoints] = strawberry.field(
        description="Net points earned in the period, per channel."
    )
    redeemed_by_channel: list[LoyaltyChannelPoints] = strawberry.field(
        description="Net points redeemed in the period, per channel."
    )
    redeemed_points: int = strawberry.field(
        description="Points redeemed in the period in a named channel: per member and "
        "channel, net redemptions (0 if negative). The share's denominator."
    )
    cross_channel_points: int = strawberry.field(
        description="Of `redeemedPoints`, those the member had earned in another channel: "
        "per member, each channel's redemptions in the period are counted against what the "
        "member earned (net, at any time before `to`) in the other channels first, each "
        "earned point once; only the rest counts as same-channel. With the channels "
        "`online` and `in_store`: min(redeemed online, earned in store) + min(redeemed in "
        "store, earned online), summed over members."
    )
    cross_channel_share: float = strawberry.field(
        description="`crossChannelPoints / redeemedPoints` (0 when nothing was redeemed): "
        "the share of points earned in one channel and redeemed in another."
    )

    @classmethod
    def of(cls, figures: LedgerFigures) -> LoyaltyFigures:
        return cls(
            since=figures.since,
            until=figures.until,
            earned_by_channel=[LoyaltyChannelPoints.of(r) for r in figures.earned_by_channel],
            redeemed_by_channel=[LoyaltyChannelPoints.of(r) for r in figures.redeemed_by_channel],
            redeemed_points=figures.redeemed_points,
            cross_channel_points=figures.cross_channel_points,
            cross_channel_share=figures.cross_channel_share,
        )


@strawberry.type
class LoyaltyFiguresQuery:
    @strawberry.field(
        description="Cross-channel loyalty figures from `from` (inclusive; default 30 days "
        "before `to`) to `to` (exclusive; default now). Internal tokens only. Errors: "
        "BAD_USER_INPUT (`from` not before `to`), FORBIDDEN.",
        extensions=guarded(Role.INTERNAL),
    )
    async def loyalty_figures(
        self,
        info: Info,
        since: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        until: Annotated[datetime | None, strawberry.argument(name="to")] = None,
    ) -> LoyaltyFigures:
        figures = await use_case.loyalty_figures(
            info.context.services, info.context.viewer, since, until
        )
        return LoyaltyFigures.of(figures)
