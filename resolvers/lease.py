"""A named lease in the store, held for the length of a block of work.

Some work must never run twice at once, across every replica of the gateway and the CLI: the
customer sync is one (two passes would link the same records twice over and race each
other's checkpoints). Each holder takes the lease with one conditional write
(:meth:`resolvers.store.LeaseStore.take_lease`), so of two contenders exactly one gets it; while
the work runs, the lease is renewed in the background well before it expires, and it is
released at the end. A holder that dies stops renewing, and the lease is free again after
its time to live, so a crash never blocks the work for good.

Expiry is judged on the contenders' clocks, so replicas' clocks must agree to within a small
part of the time to live (they do, under NTP, against a TTL of a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from resolvers.store import LeaseStore, StoreError

log = logging.getLogger("omnigate.lease")


def process_holder() -> str:
    """A holder name unique to this process (and readable in the store: host and pid)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


#: This process's name as a lease holder.
HOLDER = process_holder()


class Lease:
    def __init__(
        self,
        leases: LeaseStore,
        name: str,
        holder: str,
        *,
        ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.leases = leases
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.held = False
        #: Set each time the background renewal succeeds, and when the lease is lost to
        #: another holder (tests await them).
        self.renewed = asyncio.Event()
        self.lost = asyncio.Event()
        self._renewing: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        self.held = await self.leases.take_lease(
            self.name, self.holder, now=self.clock(), ttl=self.ttl
        )
        return self.held

    async def __aenter__(self) -> Lease:
        """Keep the (acquired) lease renewed until the block ends, then release it."""
        self._renewing = asyncio.create_task(self._renew())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
        # Released even when the block was cancelled (shutdown), so the next holder need
        # not wait for the lease to expire.
        if self.held:
            self.held = False
            await self.leases.release_lease(self.name, self.holder)

    async def _renew(self) -> None:
        every = self.ttl.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                kept = await self.leases.take_lease(
                    self.name, self.holder, now=self.clock(), ttl=self.ttl
                )
            except StoreError:
                log.warning("could not renew lease %s; trying again", self.name)
                continue
            if not kept:
                # Expired and taken by someone else: the work must stop short of anything
                # that assumes it is alone (it checks ``held``).
                log.error("lease %s was lost to another holder", self.name)
                self.held = False
                self.lost.set()
                return
            self.renewed.set()
