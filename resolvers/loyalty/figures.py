"""Cross-channel loyalty figures for the retailer's own people (internal tokens only): how
many points each channel earned and redeemed over a period, and how much of what was
redeemed had been earned in the other channel, the figure that says whether the programme
really is omnichannel. The store computes them (:meth:`~resolvers.store.LedgerStore.
loyalty_figures`; the rules are :func:`resolvers.store.ledger.figures`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from resolvers.analytics.scope import period
from resolvers.errors import Forbidden
from resolvers.store import Store
from resolvers.store.ledger import LedgerFigures
from resolvers.viewer import Role, Viewer


class FiguresServices(Protocol):
    @property
    def store(self) -> Store: ...


async def loyalty_figures(
    services: FiguresServices,
    viewer: Viewer,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    now: datetime | None = None,
) -> LedgerFigures:
    """The figures of ``[since, until)`` (defaults: the 30 days before now)."""
    if viewer.role is not Role.INTERNAL:
        raise Forbidden("Loyalty figures are for internal tokens only.")
    start, end = period(since, until, now=now)
    return await services.store.ledger.loyalty_figures(start, end)
