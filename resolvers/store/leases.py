"""The leases port: named, expiring locks that keep a job to one holder across replicas."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class LeaseStore(Protocol):
    async def take_lease(self, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
        """Hold the lease ``name`` until ``now + ttl``: taken when free or expired, renewed
        when ``holder`` has it already, refused (``False``) while another holder's is
        unexpired. One conditional write, so of replicas racing for it exactly one wins."""
        ...

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` still has it (once expired and taken by another,
        it is theirs)."""
