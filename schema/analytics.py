"""``analytics(from, to, locationIds)``: omnichannel figures over a period for internal
tools. Each figure is a field of :class:`Analytics` resolved on its own, so a client pays for
the figures it asks for; the scope (period, locations) is checked once, when the root field
runs (:mod:`resolvers.analytics.scope`). Every figure's definition is in its description."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers.analytics.scope import AnalyticsScope, analytics_scope
from resolvers.context import RequestContext
from resolvers.viewer import Role
from schema.loyalty_figures import LoyaltyFigures
from schema.permissions import guarded

Info = strawberry.Info[RequestContext, None]


@strawberry.type(
    description="Omnichannel figures over `[from, to)`. Figures about stores (in-store "
    "orders, pickup holds, stock) count only `locationIds` when given; online orders belong "
    "to no store and always count. Computed by the store from the unified data: no vendor "
    "is asked."
)
class Analytics:
    scope: strawberry.Private[AnalyticsScope]

    @strawberry.field(name="from", description="Start of the period (inclusive, UTC).")
    def since(self) -> datetime:
        return self.scope.since

    @strawberry.field(name="to", description="End of the period (exclusive, UTC).")
    def until(self) -> datetime:
        return self.scope.until

    @strawberry.field(description="The locations counted, or null for every location.")
    def location_ids(self) -> list[strawberry.ID] | None:
        ids = self.scope.location_ids
        return None if ids is None else [strawberry.ID(i) for i in sorted(ids)]

    @strawberry.field(
        description="Points earned and redeemed per channel in the period, and the share "
        "earned in one channel and redeemed in another (as `loyaltyFigures`; the ledger "
        "names no store, so `locationIds` does not narrow it)."
    )
    async def loyalty(self, info: Info) -> LoyaltyFigures:
        scope = self.scope
        figures = await info.context.services.store.ledger.loyalty_figures(scope.since, scope.until)
        return LoyaltyFigures.of(figures)


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="Omnichannel figures from `from` (inclusive; default 30 days before "
        "`to`) to `to` (exclusive; default now), at most 1098 days, optionally for some "
        "locations (at most 100). Internal tokens only. Errors: BAD_USER_INPUT (`from` not "
        "before `to`, too long a period, empty or too many `locationIds`), FORBIDDEN.",
        extensions=guarded(Role.INTERNAL),
    )
    def analytics(
        self,
        info: Info,
        since: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        until: Annotated[datetime | None, strawberry.argument(name="to")] = None,
        location_ids: list[strawberry.ID] | None = None,
    ) -> Analytics:
        scope = analytics_scope(
            info.context.viewer,
            since,
            until,
            [str(i) for i in location_ids] if location_ids is not None else None,
        )
        return Analytics(scope=scope)
