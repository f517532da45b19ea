"""Stock levels, pickup holds and the stock journal in memory. One lock covers all three, as
one transaction does in MongoDB: a hold, the ``held`` it adds to its level and the journal
entry of that level change together."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime

from gateway.store.timeutil import to_utc, utc_now
from resolvers.model import (
    HOLD_CAUSES,
    Hold,
    HoldStatus,
    HoldWrite,
    StockChange,
    StockLevel,
    finishes_from,
)
from resolvers.store.errors import CursorExpired
from resolvers.store.inventory_figures import HoldFigures, SkuStock, level_stock, top_skus

#: Journal entries kept; a cursor older than these gets ``CursorExpired``.
JOURNAL_SIZE = 100_000


def _copy_stock(level: StockLevel) -> StockLevel:
    return replace(level, quantities=dict(level.quantities))


def _require_new_hold(hold: Hold) -> None:
    if hold.quantity <= 0:
        raise ValueError("a hold must reserve at least one unit")
    if hold.status is not HoldStatus.ACTIVE:
        raise ValueError("a new hold must be active")


class MemoryInventory:
    """The :class:`~resolvers.store.InventoryStore` of the memory store. Stock quantities
    are copied in and out; holds are frozen with immutable fields, so they are shared."""

    def __init__(self, *, journal_size: int = JOURNAL_SIZE) -> None:
        self._lock = asyncio.Lock()
        #: sku -> location -> level
        self._stock: dict[str, dict[str, StockLevel]] = {}
        self._holds: dict[str, Hold] = {}
        self._hold_keys: dict[str, str] = {}
        self._active_holds: set[str] = set()
        self._completed_holds: set[str] = set()
        self._journal: deque[StockChange] = deque(maxlen=journal_size)
        self._seq = 0

    # --- stock and journal ----------------------------------------------------------------

    def _write(self, level: StockLevel, cause: str) -> StockChange:
        """Store a level with the next version and journal it; the caller holds the lock."""
        by_location = self._stock.setdefault(level.sku, {})
        current = by_location.get(level.location_id)
        stored = replace(level, version=(current.version if current else 0) + 1)
        by_location[level.location_id] = stored
        self._seq += 1
        change = StockChange(self._seq, _copy_stock(stored), cause, utc_now())
        self._journal.append(change)
        return change

    async def apply_stock_level(
        self, level: StockLevel, *, cause: str = "webhook"
    ) -> StockChange | None:
        """Applies only over a strictly older level: a redelivered event with the same
        timestamp carries nothing new and reports ``None`` so no change is announced."""
        updated_at = to_utc(level.updated_at)
        async with self._lock:
            current = self._stock.get(level.sku, {}).get(level.location_id)
            if current is not None and current.updated_at >= updated_at:
                return None
            merged = StockLevel(
                sku=level.sku,
                location_id=level.location_id,
                quantities={**(current.quantities if current else {}), **level.quantities},
                updated_at=updated_at,
                held=current.held if current is not None else 0,
                source=level.source,
            )
            return self._write(merged, cause)

    async def set_safety_stock(
        self, sku: str, location_id: str, quantity: int
    ) -> StockChange | None:
        async with self._lock:
            current = self._stock.get(sku, {}).get(location_id)
            if current is None or current.safety_stock == quantity:
                return None
            quantities = {**current.quantities, "safety_stock": quantity}
            return self._write(replace(current, quantities=quantities), "safety_stock")

    async def get_stock(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[StockLevel]:
        wanted = None if location_ids is None else set(location_ids)
        levels: list[StockLevel] = []
        for sku in sorted(set(skus)):
            by_location = self._stock.get(sku, {})
            for location_id in sorted(by_location):
                if wanted is None or location_id in wanted:
                    levels.append(_copy_stock(by_location[location_id]))
        return levels

    async def changes_since(
        self,
        seq: int,
        *,
        skus: Sequence[str] | None = None,
        location_ids: Sequence[str] | None = None,
        limit: int = 500,
    ) -> list[StockChange]:
        if seq < 0 or seq > self._seq:
            raise CursorExpired(f"no journal position {seq} (last is {self._seq})")
        if self._journal and seq < self._journal[0].seq - 1:
            raise CursorExpired(f"journal entries after {seq} were dropped")
        wanted_skus = None if skus is None else set(skus)
        wanted_locations = None if location_ids is None else set(location_ids)
        found: list[StockChange] = []
        # Entries are in seq order; skip the old part without scanning it.
        start = max(0, seq - self._journal[0].seq + 1) if self._journal else 0
        for index in range(start, len(self._journal)):
            change = self._journal[index]
            if wanted_skus is not None and change.level.sku not in wanted_skus:
                continue
            if wanted_locations is not None and change.level.location_id not in wanted_locations:
                continue
            found.append(change)
            if len(found) >= limit:
                break
        return found

    async def last_seq(self) -> int:
        return self._seq

    # --- holds ----------------------------------------------------------------------------

    async def create_hold(self, hold: Hold) -> HoldWrite | None:
        """A repeated hold id is treated like a repeated idempotency key: the caller retried."""
        _require_new_hold(hold)
        async with self._lock:
            if hold.idempotency_key is not None:
                existing_id = self._hold_keys.get(hold.idempotency_key)
                if existing_id is not None:
                    return HoldWrite(self._holds[existing_id], None)
            if hold.id in self._holds:
                return HoldWrite(self._holds[hold.id], None)
            level = self._stock.get(hold.sku, {}).get(hold.location_id)
            if level is None or level.sellable < hold.quantity:
                return None
            reserved = replace(level, held=level.held + hold.quantity)
            change = self._write(reserved, HOLD_CAUSES[HoldStatus.ACTIVE])
            stored = replace(
                hold, created_at=to_utc(hold.created_at), expires_at=to_utc(hold.expires_at)
            )
            self._holds[stored.id] = stored
            self._active_holds.add(stored.id)
            if stored.idempotency_key is not None:
                self._hold_keys[stored.idempotency_key] = stored.id
            return HoldWrite(stored, change)

    async def finish_hold(self, hold_id: str, status: HoldStatus) -> HoldWrite | None:
        required = finishes_from(status)
        async with self._lock:
            hold = self._holds.get(hold_id)
            if hold is None or hold.status is not required:
                return None
            finished = replace(hold, status=status, finished_at=utc_now())
            self._holds[hold_id] = finished
            self._active_holds.discard(hold_id)
            self._completed_holds.discard(hold_id)
            level = self._stock.get(hold.sku, {}).get(hold.location_id)
            change = None
            if level is not None:
                released = replace(level, held=level.held - hold.quantity)
                change = self._write(released, HOLD_CAUSES[status])
            return HoldWrite(finished, change)

    async def complete_hold(self, hold_id: str, *, at: datetime) -> Hold | None:
        async with self._lock:
            hold = self._holds.get(hold_id)
            if hold is None or hold.status is not HoldStatus.ACTIVE:
                return None
            level = self._stock.get(hold.sku, {}).get(hold.location_id)
            completed = replace(
                hold,
                status=HoldStatus.COMPLETED,
                completed_at=to_utc(at),
                available_at_completion=level.quantities.get("available", 0) if level else 0,
            )
            self._holds[hold_id] = completed
            self._active_holds.discard(hold_id)
            self._completed_holds.add(hold_id)
            return completed

    async def get_hold(self, hold_id: str) -> Hold | None:
        return self._holds.get(hold_id)

    async def holds_for_customer(self, customer_id: str, *, limit: int = 50) -> list[Hold]:
        mine = [hold for hold in self._holds.values() if hold.customer_id == customer_id]
        mine.sort(key=lambda hold: (hold.created_at, hold.id), reverse=True)
        return mine[: max(0, limit)]

    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        """Active holds are few (they last minutes), so scanning that set is cheap."""
        if limit <= 0:
            return []
        cutoff = to_utc(now)
        due = [
            hold
            for hold_id in self._active_holds
            if (hold := self._holds[hold_id]).expires_at <= cutoff
        ]
        due.sort(key=lambda hold: (hold.expires_at, hold.id))
        return due[:limit]

    def _completed(self) -> list[Hold]:
        holds = [self._holds[hold_id] for hold_id in self._completed_holds]
        holds.sort(key=lambda hold: (hold.completed_at or hold.created_at, hold.id))
        return holds

    async def completed_holds(self, sku: str, location_id: str) -> list[Hold]:
        return [h for h in self._completed() if h.sku == sku and h.location_id == location_id]

    async def unsettled_holds(self, completed_before: datetime, limit: int = 100) -> list[Hold]:
        cutoff = to_utc(completed_before)
        due = [h for h in self._completed() if h.completed_at and h.completed_at < cutoff]
        return due[: max(0, limit)]

    # --- figures --------------------------------------------------------------------------

    async def hold_figures(
        self, since: datetime, until: datetime, location_ids: Sequence[str] | None = None
    ) -> list[HoldFigures]:
        start, end = to_utc(since), to_utc(until)
        wanted = None if location_ids is None else set(location_ids)
        counts: dict[str, dict[str, int]] = {}
        for hold in self._holds.values():
            if not start <= hold.created_at < end:
                continue
            if wanted is not None and hold.location_id not in wanted:
                continue
            row = counts.setdefault(hold.location_id, dict.fromkeys(_HOLD_COUNTS, 0))
            row["holds"] += 1
            row["units"] += hold.quantity
            if hold.status in (HoldStatus.COMPLETED, HoldStatus.SETTLED):
                row["completed"] += 1
                row["units_picked_up"] += hold.quantity
            else:
                row[hold.status.value] += 1
        return [HoldFigures(location_id=loc, **counts[loc]) for loc in sorted(counts)]

    async def stock_figures(
        self,
        since: datetime,
        until: datetime,
        location_ids: Sequence[str] | None = None,
        *,
        first: int = 10,
    ) -> list[SkuStock]:
        start, end = to_utc(since), to_utc(until)
        wanted = None if location_ids is None else set(location_ids)
        before: dict[tuple[str, str], StockChange] = {}
        during: dict[tuple[str, str], list[StockChange]] = {}
        for change in self._journal:
            key = (change.level.location_id, change.level.sku)
            if wanted is not None and key[0] not in wanted:
                continue
            if change.at < start:
                before[key] = change
            elif change.at < end:
                during.setdefault(key, []).append(change)
        rows = [
            level_stock(before.get(key), entries, start, end) for key, entries in during.items()
        ]
        return top_skus((row for row in rows if row is not None), first)


#: The counted fields of :class:`HoldFigures`, named as the statuses they count where so.
_HOLD_COUNTS = [f.name for f in fields(HoldFigures) if f.name != "location_id"]
