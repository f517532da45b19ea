"""Cross-channel loyalty figures for the retailer's own people (internal tokens only): how
many points each channel earned and redeemed over a period, and how much of what was
redeemed had been earned in the other channel, the figure that says whether the programme
really is omnichannel. The store computes them (:meth:`~resolvers.store.LedgerStore.
loyalty_figures`; the rules are :func:`resolvers.store.ledger.figures`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from resolvers.errors import BadUserInput, Forbidden
from resolvers.store import Store
from resolvers.store.ledger import LedgerFigures
from resolvers.viewer import Role, Viewer

#: The period when none is given: the 30 days before ``until``.
DEFAULT_PERIOD = timedelta(days=30)


class FiguresServices(Protocol):
    @property
    def store(self) -> Store: ...


def _utc(value: datetime) -> datetime:
    """A time without a zone is taken as UTC, as the store does."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def loyalty_figures(
    services: FiguresServices,
    viewer: Viewer,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    now: datetime | None = None,
) -> LedgerFigures:
    if viewer.role is not Role.INTERNAL:
        raise Forbidden("Loyalty figures are for internal tokens only.")
    end = _utc(until) if until is not None else (now or datetime.now(UTC))
    start = _utc(since) if since is not None else end - DEFAULT_PERIOD
    if start >= end:
        raise BadUserInput(
            "`from` must be before `to`.",
            extensions={"from": start.isoformat(), "to": end.isoformat()},
        )
    return await services.store.ledger.loyalty_figures(start, end)
