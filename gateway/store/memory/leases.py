"""Leases in memory: one process, so a lease only orders tasks of the demo's event loop."""

from __future__ import annotations

from datetime import datetime, timedelta


class MemoryLeases:
    """The :class:`~resolvers.store.LeaseStore` of the memory store."""

    def __init__(self) -> None:
        #: Lease name -> (holder, held until).
        self._leases: dict[str, tuple[str, datetime]] = {}

    async def take_lease(self, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
        # No await between the check and the write: atomic on the event loop.
        current = self._leases.get(name)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._leases[name] = (holder, now + ttl)
        return True

    async def release_lease(self, name: str, holder: str) -> None:
        current = self._leases.get(name)
        if current is not None and current[0] == holder:
            del self._leases[name]
