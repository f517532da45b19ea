"""The loyalty property sync: each changed account's figures to the email tool's profile.

Whoever moves points calls :func:`resolvers.loyalty.notify.account_changed`, which puts the
account id on the bus and returns; this worker listens, and in the background:

- collects the ids (a set: ten movements of one account before a send are one update);
- every ``interval`` seconds, or at once when ``batch_size`` are waiting, reads those
  accounts, their profiles and their identities in each marketing sink's own source (a
  Klaviyo profile id), and hands one batch of updates to each sink
  (:meth:`~connectors.capabilities.MarketingSink.update_profiles`; Klaviyo's coalesces and
  writes in the background too: one ``PATCH``, or one bulk import job for many);
- a batch a sink refuses for now (``UpstreamError``: 429, 5xx, timeouts, an open breaker)
  goes back to the front of the queue and is tried again after a backoff (doubling up to
  ``backoff_max``), for as long as it takes; values are re-read each try, so the newest win,
  and a change that arrives while a batch is in flight is sent after it;
- an account without a profile (erased: ``anon_...``, or the profile retired) is not sent,
  nor is one whose customer has no identity in the sink's source (the sync links
  subscribers as it finds them; the next change after that is sent).

A GraphQL mutation never waits for any of this. What is waiting lives in this process only:
a replica that stops takes unsent ids with it, and the account's next movement sends all of
its figures again (they are absolute values).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from connectors.capabilities import MarketingSink
from connectors.errors import UpstreamError
from connectors.records import ProfileUpdate
from resolvers.context import Services
from resolvers.events import RESYNC, Subscription
from resolvers.loyalty.marketing import loyalty_properties
from resolvers.loyalty.notify import TOPIC
from resolvers.model import LoyaltyAccount

log = logging.getLogger("omnigate.loyalty.sync")

#: Ids the bus may hold for this worker before it would drop them (it drains the queue
#: continuously, so this only fills if the event loop is starved).
QUEUE_SIZE = 100_000
#: Ids whose account was anonymised by an erasure.
ANONYMOUS_PREFIX = "anon_"

Sleep = Callable[[float], Awaitable[object]]


@dataclass(slots=True)
class SyncStats:
    """What the worker did, for tests and logs."""

    #: Batches handed to the sinks, and the profile updates in them.
    batches: int = 0
    updates: int = 0
    #: Accounts not sent: erased or without a profile, or not linked to the sink's source.
    erased: int = 0
    unlinked: int = 0
    #: Batches a sink refused for now, retried later.
    retries: int = 0
    #: Times the bus queue overflowed (ids were lost; logged).
    resyncs: int = 0


class LoyaltySync:
    task_name = "omnigate-loyalty-sync"

    def __init__(
        self,
        services: Services,
        *,
        interval: float,
        batch_size: int = 100,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``interval`` in seconds; 0 turns the sync off (nothing listens)."""
        if batch_size < 1:
            raise ValueError("a batch holds one account at least")
        self.services = services
        self.interval = interval
        self.batch_size = batch_size
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.stats = SyncStats()
        self._sleep = sleep
        self._dirty: dict[str, None] = {}
        self._in_flight: list[str] = []
        self._failures = 0
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._changed = asyncio.Condition()
        self._subscription: Subscription | None = None
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def start(self) -> None:
        """Start listening and sending (a no-op when turned off or started already)."""
        if not self.enabled or self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._listen(), name=f"{self.task_name}-listen"),
            asyncio.create_task(self._run(), name=self.task_name),
        ]

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop listening, hand what is waiting to the sinks once more (for at most
        ``grace`` seconds), and stop."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._subscription is not None:
            while not self._subscription.empty():
                item = self._subscription.get_nowait()
                if isinstance(item, str):
                    self.mark(item)
        self._subscription = None
        self._listening.clear()
        if self._dirty:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(grace):
                    await self.send(list(self._dirty))
                    self._dirty.clear()
        if self._dirty:
            log.warning("loyalty sync stopped with %d accounts unsent", len(self._dirty))

    async def listening(self) -> None:
        """Wait until the worker hears changes (tests move points after this)."""
        await self._listening.wait()

    @property
    def waiting(self) -> int:
        """Accounts changed and not yet handed to the sinks (queued, or being sent)."""
        queued = self._subscription.pending() if self._subscription is not None else 0
        return queued + len(self._dirty) + len(self._in_flight)

    async def idle(self) -> None:
        """Wait until every change heard so far has been handed to the sinks."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.waiting == 0)

    # --- collecting ---------------------------------------------------------------------------

    def mark(self, account_id: str) -> None:
        """Queue an account to be sent (the bus does this; tests may call it directly)."""
        self._dirty[account_id] = None
        self._wake.set()
        if len(self._dirty) >= self.batch_size:
            self._full.set()

    async def _listen(self) -> None:
        async with self.services.events.subscribe(TOPIC, queue_size=QUEUE_SIZE) as subscription:
            self._subscription = subscription
            self._listening.set()
            async for item in subscription:
                if item is RESYNC:
                    self.stats.resyncs += 1
                    log.error("loyalty sync fell behind the bus: some changes were not heard")
                    continue
                if isinstance(item, str):
                    self.mark(item)

    # --- sending ------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if len(self._dirty) < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.interval)
            self._wake.clear()
            self._full.clear()
            while self._dirty:
                batch = list(self._dirty)[: self.batch_size]
                for account_id in batch:
                    del self._dirty[account_id]
                self._in_flight = batch
                try:
                    await self.send(batch)
                except asyncio.CancelledError:
                    self._requeue(batch)  # stop() sends it once more
                    raise
                except UpstreamError as exc:
                    self._requeue(batch)
                    self._failures += 1
                    self.stats.retries += 1
                    delay = min(self.backoff_max, self.backoff_base * 2 ** (self._failures - 1))
                    log.warning(
                        "loyalty sync: a sink refused %d accounts (%s); again in %.1f s",
                        len(batch),
                        exc.code,
                        delay,
                    )
                    await self._sleep(delay)
                except Exception:
                    # A store error or a bug: keep the ids, do not spin, try again.
                    self._requeue(batch)
                    self.stats.retries += 1
                    log.exception("loyalty sync failed; trying again")
                    await self._sleep(self.backoff_max)
                else:
                    self._failures = 0
                finally:
                    self._in_flight = []
                    async with self._changed:
                        self._changed.notify_all()
            if not self._dirty:
                self._wake.clear()

    def _requeue(self, batch: Sequence[str]) -> None:
        """Put a failed batch back in front of what arrived meanwhile (re-read when sent)."""
        later = self._dirty
        self._dirty = dict.fromkeys(batch)
        self._dirty.update(later)

    async def send(self, account_ids: Sequence[str]) -> int:
        """One batch: read the accounts, profiles and identities, and hand each sink its
        updates; the number of updates handed over. ``UpstreamError`` from a sink is the
        caller's to retry (every sink gets the batch again: the values are absolute)."""
        sinks = self.services.connectors.of(MarketingSink)
        ids = [i for i in account_ids if not i.startswith(ANONYMOUS_PREFIX)]
        self.stats.erased += len(account_ids) - len(ids)
        store = self.services.store
        profiles = await store.profiles.get_profiles(ids) if ids and sinks else {}
        self.stats.erased += len([i for i in ids if i not in profiles]) if sinks else 0
        members = [i for i in ids if i in profiles]
        if not members:
            return 0
        identities = await store.identities.identities_of(members)
        accounts = await asyncio.gather(*(store.ledger.get_account(i) for i in members))
        program = self.services.config.loyalty
        sent = 0
        for sink in sinks:
            updates: list[ProfileUpdate] = []
            for member, account in zip(members, accounts, strict=True):
                linked = [i for i in identities.get(member, []) if i.source == sink.source]
                if not linked:
                    self.stats.unlinked += 1
                    continue
                figures = loyalty_properties(account or LoyaltyAccount(id=member), program)
                updates.append(ProfileUpdate(linked[0].source_id, None, figures))
            if updates:
                await sink.update_profiles(updates)
                self.stats.batches += 1
                self.stats.updates += len(updates)
                sent += len(updates)
        return sent
