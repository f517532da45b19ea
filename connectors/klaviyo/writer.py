"""Background writes of profile properties (points, tier, LTV, ...) to Klaviyo.

A loyalty change must reach Klaviyo eventually, but a GraphQL mutation that earned points must
not wait for it, nor fail because Klaviyo is slow or throttling. So :meth:`ProfileWriter.enqueue`
only records the change and returns; a background task sends what has accumulated:

- updates of the same profile are coalesced (the newest value of each property wins), so a
  burst of earn events for one person costs one write;
- one pending profile with a known id is one ``PATCH /api/profiles/{id}``; anything more is a
  bulk import job (up to 10,000 profiles each), whose status is then polled until Klaviyo has
  processed it;
- a batch that fails for a reason worth retrying (unavailable, rate limited, a job Klaviyo
  cancelled) goes back into the queue with exponential backoff (up to ``backoff_max``),
  without overwriting newer values queued meanwhile, until it is written: loyalty figures
  must not silently stop matching the ledger because Klaviyo was down for longer than a few
  attempts (the queue holds one entry per profile, so an outage costs memory for the
  profiles that changed, not for every change); ``max_attempts`` caps it when set;
- a request Klaviyo rejects as invalid is dropped and logged, since sending it again cannot
  succeed.

:meth:`flush` waits until everything queued so far has been written (tests, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import UpstreamBadResponse, UpstreamError
from connectors.klaviyo.client import KlaviyoClient
from connectors.klaviyo.mapping import bulk_import_body, patch_body
from connectors.klaviyo.properties import DEFAULT_PREFIX
from connectors.records import ProfileUpdate

log = logging.getLogger("omnigate.connectors.klaviyo.writer")

#: Klaviyo's limit of profiles per bulk import job.
MAX_JOB_PROFILES = 10_000

Sleep = Callable[[float], Awaitable[object]]


@dataclass(slots=True)
class WriterSettings:
    #: How long the worker waits after the first queued change for more to join its batch.
    linger: float = 0.2
    #: Attempts of a retryable failure before the update is dropped; ``None``: until written.
    max_attempts: int | None = None
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    #: Bulk job status polling: first wait, growth factor, longest wait, give up after.
    poll_first: float = 0.2
    poll_factor: float = 1.5
    poll_max: float = 10.0
    poll_timeout: float = 900.0
    max_job_profiles: int = MAX_JOB_PROFILES
    property_prefix: str = DEFAULT_PREFIX
    #: On shutdown, how long to keep writing what is queued before giving up on it.
    close_grace: float = 5.0


@dataclass(slots=True)
class _Pending:
    profile_id: str | None
    email: str | None
    properties: dict[str, object]
    attempts: int = 0
    not_before: float = 0.0

    def update(self) -> ProfileUpdate:
        return ProfileUpdate(self.profile_id, self.email, dict(self.properties))


@dataclass(slots=True)
class WriterStats:
    """What the writer did, for tests, health and logs."""

    enqueued: int = 0
    patches: int = 0
    jobs: int = 0
    job_profiles: int = 0
    written: int = 0
    retried: int = 0
    dropped: int = 0
    job_ids: list[str] = field(default_factory=list)


def _key(update: ProfileUpdate) -> tuple[str, str]:
    if update.profile_id:
        return ("id", update.profile_id)
    if update.email:
        return ("email", update.email.strip().lower())
    raise ValueError("a profile update needs a profile id or an email")


class ProfileWriter:
    def __init__(
        self,
        client: KlaviyoClient,
        settings: WriterSettings | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.settings = settings or WriterSettings()
        self.stats = WriterStats()
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="klaviyo-profile-writer")

    async def close(self) -> None:
        """Write what is queued (for at most ``close_grace`` seconds), then stop the worker."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.close_grace):
                await self.flush()
        if self._pending:
            log.warning("klaviyo writer stopped with %d profile updates unsent", len(self._pending))
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @property
    def pending(self) -> int:
        """Profiles with changes not yet written: queued, or in the batch being sent."""
        return len(self._pending) + self._in_flight

    # --- producer side ------------------------------------------------------------------------

    def enqueue(self, updates: Sequence[ProfileUpdate]) -> None:
        """Queue updates and return at once; the background task writes them."""
        for update in updates:
            key = _key(update)
            current = self._pending.get(key)
            if current is None:
                self._pending[key] = _Pending(
                    update.profile_id, update.email, dict(update.properties)
                )
            else:
                current.properties.update(update.properties)
                current.email = current.email or update.email
            self.stats.enqueued += 1
        if self._pending:
            self._idle.clear()
            self._wake.set()

    async def flush(self) -> None:
        """Wait until everything queued so far is written or given up on."""
        if self._task is None or self._task.done():
            raise RuntimeError("the profile writer is not running (call start())")
        await self._idle.wait()

    # --- worker -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.settings.linger > 0:
                await self._sleep(self.settings.linger)
            while self._pending:
                now = self._clock()
                ready = {k: p for k, p in self._pending.items() if p.not_before <= now}
                if not ready:
                    soonest = min(p.not_before for p in self._pending.values())
                    await self._wait_until(soonest)
                    continue
                batch = dict(list(ready.items())[: self.settings.max_job_profiles])
                for key in batch:
                    del self._pending[key]
                self._in_flight = len(batch)
                try:
                    await self._write(batch)
                except Exception:  # never let one bad batch kill the worker
                    log.exception("klaviyo profile write failed unexpectedly")
                    self.stats.dropped += len(batch)
                finally:
                    self._in_flight = 0
            if not self._pending:
                self._idle.set()

    async def _wait_until(self, moment: float) -> None:
        """Back off until ``moment``, waking early when new work is queued."""
        delay = max(0.0, moment - self._clock())
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def _write(self, batch: Mapping[tuple[str, str], _Pending]) -> None:
        items = list(batch.values())
        try:
            if len(items) == 1 and items[0].profile_id is not None:
                await self._patch(items[0])
            else:
                await self._bulk(items)
        except UpstreamBadResponse as exc:
            # 4xx: the request itself is wrong (or the profile is gone); resending cannot help.
            self.stats.dropped += len(items)
            log.error("klaviyo rejected %d profile updates: %s", len(items), exc)
        except (UpstreamError, _JobFailed) as exc:
            self._retry(batch, exc)
        else:
            self.stats.written += len(items)

    async def _patch(self, item: _Pending) -> None:
        assert item.profile_id is not None
        body = patch_body(item.update(), self.settings.property_prefix)
        # Setting absolute property values is idempotent, so a lost answer may be retried.
        await self.client.call(
            "PATCH",
            f"/api/profiles/{item.profile_id}",
            operation="update_profile",
            body=body,
            idempotent=True,
        )
        self.stats.patches += 1

    async def _bulk(self, items: Sequence[_Pending]) -> None:
        body = bulk_import_body([i.update() for i in items], self.settings.property_prefix)
        # Re-running an import of the same absolute values is harmless, so retry on a lost answer.
        response = await self.client.call(
            "POST",
            "/api/profile-bulk-import-jobs",
            operation="bulk_import_profiles",
            body=body,
            idempotent=True,
        )
        job = self.client.document(response, "bulk_import_profiles").get("data") or {}
        job_id = job.get("id") if isinstance(job, Mapping) else None
        if not isinstance(job_id, str):
            raise UpstreamBadResponse(
                "klaviyo bulk_import_profiles: no job id in the answer",
                source="klaviyo",
                operation="bulk_import_profiles",
            )
        self.stats.jobs += 1
        self.stats.job_profiles += len(items)
        self.stats.job_ids.append(job_id)
        await self._await_job(job_id, job.get("attributes") or {})

    async def _await_job(self, job_id: str, attributes: Mapping[str, Any]) -> None:
        """Poll the job until Klaviyo has processed it. A cancelled job is retried; profiles
        that failed validation inside a completed job are reported, not retried (the same
        data would fail again)."""
        wait = self.settings.poll_first
        deadline = self._clock() + self.settings.poll_timeout
        status = attributes.get("status")
        while status not in ("complete", "cancelled"):
            if self._clock() >= deadline:
                raise _JobFailed(f"job {job_id} still {status} after polling timed out")
            await self._sleep(wait)
            wait = min(wait * self.settings.poll_factor, self.settings.poll_max)
            document = await self.client.get(
                f"/api/profile-bulk-import-jobs/{job_id}",
                operation="get_bulk_import_profiles_job",
            )
            data = document.get("data") or {}
            attributes = data.get("attributes") or {} if isinstance(data, Mapping) else {}
            status = attributes.get("status")
        if status == "cancelled":
            raise _JobFailed(f"job {job_id} was cancelled")
        failed = attributes.get("failed_count") or 0
        if failed:
            log.error("klaviyo bulk import job %s: %s profiles failed", job_id, failed)

    def _retry(self, batch: Mapping[tuple[str, str], _Pending], error: Exception) -> None:
        """Requeue a failed batch with backoff. The jitter is drawn once per batch: updates
        that failed together become ready together and go out again as one job, instead of
        trickling out as one ``PATCH`` each."""
        requeued = 0
        jitter = 0.5 + self._rand() / 2
        for key, item in batch.items():
            item.attempts += 1
            limit = self.settings.max_attempts
            if limit is not None and item.attempts >= limit:
                self.stats.dropped += 1
                continue
            delay = min(
                self.settings.backoff_max,
                self.settings.backoff_base * 2 ** min(item.attempts - 1, 30),
            )
            item.not_before = self._clock() + delay * jitter
            newer = self._pending.get(key)
            if newer is not None:
                # Changes queued while this batch was in flight are newer: they win.
                item.properties.update(newer.properties)
                item.email = item.email or newer.email
                item.not_before = min(item.not_before, newer.not_before)
            self._pending[key] = item
            requeued += 1
        self.stats.retried += requeued
        log.warning(
            "klaviyo profile write failed (%s); %d updates requeued, %d dropped",
            error,
            requeued,
            len(batch) - requeued,
        )


class _JobFailed(Exception):
    """A bulk job Klaviyo did not process (cancelled, or never finished)."""
