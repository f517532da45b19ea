"""``Subscription``: live stock over graphql-transport-ws (see docs/subscriptions.md).

The stream itself, its cursor and its handover from replay to live are decided in
:mod:`resolvers.stock.live`; this module declares the types and who may subscribe.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.context import RequestContext
from resolvers.stock.live import LiveEvent, stock_changes
from resolvers.viewer import Role
from schema.permissions import guarded
from schema.stock import StockLevel, stock_level_from


@strawberry.type(
    description="One item of `stockChanged`: a level as stored after a change, or (with "
    "`resync: true`, and `level` and `cause` null) a marker saying the subscriber fell behind "
    "and missed changes."
)
class StockChangeEvent:
    cursor: str = strawberry.field(
        description="Opaque position in the stock journal: subscribe again with "
        "`since: <cursor>` to receive every change after this one."
    )
    resync: bool = strawberry.field(
        description="True on a marker: changes before it may be missing (this subscriber was "
        "too slow). Re-read the stock, or resubscribe with `since` this cursor."
    )
    cause: str | None = strawberry.field(
        description="What changed the level: webhook, order, reconciliation, warmup, hold, "
        "release, expiry, settlement, safety_stock. Null on a resync marker."
    )
    level: StockLevel | None = strawberry.field(
        description="The level as stored after the change. Null on a resync marker."
    )


def event_from(event: LiveEvent) -> StockChangeEvent:
    change = event.change
    return StockChangeEvent(
        cursor=event.cursor,
        resync=change is None,
        cause=change.cause if change is not None else None,
        level=stock_level_from(change.level) if change is not None else None,
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every change of the stock of `skus` (1 to 100) at `locationIds` (or every "
        "location), from a hold to a webhook, in journal order. With `since` (a cursor from an "
        "earlier event) the changes after it are replayed first, then live ones follow, none "
        "twice. Storefront, staff and internal tokens.",
        extensions=guarded(Role.STOREFRONT, Role.STAFF, Role.INTERNAL),
    )
    async def stock_changed(
        self,
        info: strawberry.Info[RequestContext, None],
        skus: list[str],
        location_ids: list[strawberry.ID] | None = None,
        since: str | None = None,
    ) -> AsyncGenerator[StockChangeEvent, None]:
        stream = stock_changes(
            info.context.services,
            skus,
            [str(i) for i in location_ids] if location_ids is not None else None,
            since,
        )
        async for event in stream:
            yield event_from(event)
