"""Pickup and stock figures for ``analytics``: the shapes both stores return and the one
walk over a level's journal entries that both stores use, so the definitions live once.

Units sold and received are read from consecutive journal entries of one (sku, location):
the change of the counted quantity (``on_hand`` when the level carries it, else
``available``) between an entry and the one before it. Only entries whose ``cause`` is in
:data:`SALE_CAUSES` move it as sales or receipts; a warm-up load, a reconciliation (a
correction of drift, not a sale) or a safety-stock setting does not, and a hold only moves
``held``. A decrease is units sold, an increase units received."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from resolvers.model import StockChange, StockLevel

#: The journal causes whose quantity changes are sales (decreases) or receipts (increases).
SALE_CAUSES: frozenset[str] = frozenset({"webhook", "order"})
#: Default and largest ``first`` of the stock figures.
DEFAULT_TOP_SKUS = 10
MAX_TOP_SKUS = 50


@dataclass(frozen=True, slots=True)
class HoldFigures:
    """Holds created in the period at one location, by where they are now."""

    location_id: str
    holds: int = 0
    units: int = 0
    #: ``COMPLETED`` or ``SETTLED``.
    completed: int = 0
    expired: int = 0
    released: int = 0
    active: int = 0
    #: Units of the completed holds.
    units_picked_up: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.expired + self.released

    @property
    def conversion_rate(self) -> float | None:
        return self.completed / self.finished if self.finished else None

    @property
    def expiry_rate(self) -> float | None:
        return self.expired / self.finished if self.finished else None


@dataclass(frozen=True, slots=True)
class SkuStock:
    """One (location, sku) over the period, from the retained journal."""

    location_id: str
    sku: str
    units_sold: int
    units_received: int
    #: ``available`` of the last entry before the period, else of the period's first entry.
    available_at_start: int
    #: Time in the period during which the level's sellable quantity was at most 0.
    out_of_stock: timedelta

    @property
    def sell_through(self) -> float | None:
        base = self.available_at_start + self.units_received
        return self.units_sold / base if base > 0 else None

    @property
    def out_of_stock_hours(self) -> float:
        return self.out_of_stock.total_seconds() / 3600


def counted(level: StockLevel) -> int:
    quantities = level.quantities
    return quantities["on_hand"] if "on_hand" in quantities else quantities.get("available", 0)


def level_stock(
    before: StockChange | None,
    entries: Sequence[StockChange],
    since: datetime,
    until: datetime,
) -> SkuStock | None:
    """Walk one level's entries in the period (ascending ``seq``) after ``before``, the last
    entry before ``since`` if the journal still has it. Before the first known entry the
    level is unknown: that time is not counted as out of stock."""
    if not entries:
        return None
    first = before if before is not None else entries[0]
    sold = received = 0
    out = timedelta(0)
    previous = before
    for entry in entries:
        if previous is not None:
            if entry.cause in SALE_CAUSES:
                delta = counted(entry.level) - counted(previous.level)
                sold += max(0, -delta)
                received += max(0, delta)
            if previous.level.sellable <= 0:
                out += entry.at - max(since, previous.at)
        previous = entry
    if previous is not None and previous.level.sellable <= 0:
        out += until - max(since, previous.at)
    level = entries[0].level
    return SkuStock(
        location_id=level.location_id,
        sku=level.sku,
        units_sold=sold,
        units_received=received,
        available_at_start=first.level.quantities.get("available", 0),
        out_of_stock=out,
    )


def top_skus(rows: Iterable[SkuStock], first: int) -> list[SkuStock]:
    """The rows of the ``first`` SKUs with the most units sold over every counted location
    (ties by SKU), ordered by that rank, then location."""
    rows = list(rows)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.sku] = totals.get(row.sku, 0) + row.units_sold
    ranked = sorted(totals, key=lambda sku: (-totals[sku], sku))[: max(0, first)]
    rank = {sku: index for index, sku in enumerate(ranked)}
    kept = [row for row in rows if row.sku in rank]
    kept.sort(key=lambda row: (rank[row.sku], row.location_id))
    return kept
