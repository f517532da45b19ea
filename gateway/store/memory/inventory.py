"""Stock levels and pickup holds in memory. One lock covers both, as one transaction does
in MongoDB: a hold and the ``held`` it adds to its stock level change together."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from gateway.store.timeutil import to_utc
from resolvers.model import Hold, HoldStatus, StockLevel


def _copy_stock(level: StockLevel) -> StockLevel:
    return replace(level, quantities=dict(level.quantities))


def _require_new_hold(hold: Hold) -> None:
    if hold.quantity <= 0:
        raise ValueError("a hold must reserve at least one unit")
    if hold.status is not HoldStatus.ACTIVE:
        raise ValueError("a new hold must be active")


def _require_final(status: HoldStatus) -> None:
    if status is HoldStatus.ACTIVE:
        raise ValueError("finish_hold needs a final status, not active")


class MemoryInventory:
    """The :class:`~resolvers.store.InventoryStore` of the memory store. Stock quantities
    are copied in and out; holds are frozen with immutable fields, so they are shared."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        #: sku -> location -> level
        self._stock: dict[str, dict[str, StockLevel]] = {}
        self._holds: dict[str, Hold] = {}
        self._hold_keys: dict[str, str] = {}
        self._active_holds: set[str] = set()

    async def apply_stock_level(self, level: StockLevel) -> bool:
        """Applies only over a strictly older level: a redelivered event with the same
        timestamp carries nothing new and reports ``False`` so no change event is published."""
        updated_at = to_utc(level.updated_at)
        async with self._lock:
            by_location = self._stock.setdefault(level.sku, {})
            current = by_location.get(level.location_id)
            if current is not None and current.updated_at >= updated_at:
                return False
            by_location[level.location_id] = StockLevel(
                sku=level.sku,
                location_id=level.location_id,
                quantities={**(current.quantities if current else {}), **level.quantities},
                updated_at=updated_at,
                held=current.held if current is not None else 0,
                source=level.source,
            )
            return True

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

    async def create_hold(self, hold: Hold) -> Hold | None:
        """A repeated hold id is treated like a repeated idempotency key: the caller retried."""
        _require_new_hold(hold)
        async with self._lock:
            if hold.idempotency_key is not None:
                existing_id = self._hold_keys.get(hold.idempotency_key)
                if existing_id is not None:
                    return self._holds[existing_id]
            if hold.id in self._holds:
                return self._holds[hold.id]
            by_location = self._stock.get(hold.sku, {})
            level = by_location.get(hold.location_id)
            if level is None or level.sellable < hold.quantity:
                return None
            by_location[hold.location_id] = replace(level, held=level.held + hold.quantity)
            stored = replace(
                hold, created_at=to_utc(hold.created_at), expires_at=to_utc(hold.expires_at)
            )
            self._holds[stored.id] = stored
            self._active_holds.add(stored.id)
            if stored.idempotency_key is not None:
                self._hold_keys[stored.idempotency_key] = stored.id
            return stored

    async def finish_hold(self, hold_id: str, status: HoldStatus) -> Hold | None:
        _require_final(status)
        async with self._lock:
            hold = self._holds.get(hold_id)
            if hold is None or hold.status is not HoldStatus.ACTIVE:
                return None
            finished = replace(hold, status=status)
            self._holds[hold_id] = finished
            self._active_holds.discard(hold_id)
            by_location = self._stock.get(hold.sku, {})
            level = by_location.get(hold.location_id)
            if level is not None:
                by_location[hold.location_id] = replace(level, held=level.held - hold.quantity)
            return finished

    async def get_hold(self, hold_id: str) -> Hold | None:
        return self._holds.get(hold_id)

    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        """Active holds whose expiry is at or before ``now``, soonest-expired first. Active
        holds are few (they last minutes), so scanning that set is cheap."""
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
