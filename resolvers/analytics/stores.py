"""The store-side figures of ``analytics``: pickup holds and stock per store. The rules are
:mod:`resolvers.store.inventory_figures`; this module only checks what the caller may ask."""

from __future__ import annotations

from typing import Protocol

from resolvers.analytics.scope import AnalyticsScope
from resolvers.errors import BadUserInput
from resolvers.store import Store
from resolvers.store.inventory_figures import MAX_TOP_SKUS, HoldFigures, SkuStock


class FigureServices(Protocol):
    @property
    def store(self) -> Store: ...


def _locations(scope: AnalyticsScope) -> list[str] | None:
    return None if scope.location_ids is None else sorted(scope.location_ids)


async def pickup(services: FigureServices, scope: AnalyticsScope) -> list[HoldFigures]:
    return await services.store.inventory.hold_figures(scope.since, scope.until, _locations(scope))


async def stock(services: FigureServices, scope: AnalyticsScope, first: int) -> list[SkuStock]:
    if not 1 <= first <= MAX_TOP_SKUS:
        raise BadUserInput(
            f"`first` must be from 1 to {MAX_TOP_SKUS}.",
            extensions={"argument": "first", "max": MAX_TOP_SKUS},
        )
    return await services.store.inventory.stock_figures(
        scope.since, scope.until, _locations(scope), first=first
    )
