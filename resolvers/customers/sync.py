"""Backfill and incremental sync of every customer from every source.

1. Read every customer (and every marketing profile) from each enabled source, page by page:
   everything (a backfill), everything updated since a date, or (``incremental``) what each
   source changed since its own checkpoint.
2. Resolve them together with what the store already knows (``Linker``): stable profile ids,
   merges logged, conflicts and placeholders reported.
3. Build each touched profile from its sources, in batches that share DataLoaders.

Resumable: a checkpoint records when the run started and how far the build got. Linking is
idempotent (identities are unique per source record), so a rerun after a stop links the same
clusters to the same ids, and skips profiles the stopped run already built.

One run at a time, everywhere: a run holds the store lease ``sync:customers`` (see
:mod:`resolvers.lease`), so two replicas' schedulers, or a scheduler and the CLI, never run
passes at once; a run that finds the lease taken returns at once with ``busy`` set.

Per-source checkpoints (``sync:customers:<source>``, ``{"updated_at": ...}``) are high-water
marks on the *vendor's* clock: the newest ``updated_at`` the source returned, but never later
than when this run started (a record changed during the run, after its page was read, is
stamped after the start, so the next run still sees it). The next incremental run reads from
the checkpoint minus ``overlap``, which absorbs a vendor's search index lagging behind its
writes, strict "greater than" filters and the skew between our clock and the vendor's. A
checkpoint moves only forward, only after the run has built every touched profile, and not
for a source that failed (its changes are read again next time).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.capabilities import CustomerSource, MarketingDirectory
from connectors.errors import UpstreamError
from connectors.records import CustomerRecord, MarketingProfile
from resolvers.customers.ports import CustomerServices
from resolvers.customers.service import utcnow
from resolvers.identity.normalize import normalize_email, normalize_phone
from resolvers.lease import HOLDER, Lease

CHECKPOINT = "sync:customers"
#: The lease a run holds; renewed every third of its time to live while the run lasts.
LEASE = "sync:customers"
LEASE_TTL = timedelta(seconds=60)
#: How far before each source's checkpoint an incremental run starts reading.
DEFAULT_OVERLAP = timedelta(minutes=2)
BATCH = 100

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class SyncSummary:
    records: dict[str, int] = field(default_factory=dict)
    skipped_erased: int = 0
    profiles_created: int = 0
    profiles_merged: int = 0
    profiles_built: int = 0
    profiles_skipped: int = 0
    conflicts: int = 0
    possible_duplicates: int = 0
    placeholders: dict[str, int] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    resumed: bool = False
    #: What each source was asked for: changes since this time, or everything (``None``).
    since: dict[str, datetime | None] = field(default_factory=dict)
    #: Each source's checkpoint after the run (unchanged when nothing newer was read).
    checkpoints: dict[str, datetime] = field(default_factory=dict)
    #: Another run held the lease: this one did nothing.
    busy: bool = False
    #: The lease was lost mid-run (its renewal failed): checkpoints were not advanced.
    lease_lost: bool = False

    def lines(self) -> list[str]:
        if self.busy:
            return ["skipped: another customer sync is running"]
        read = ", ".join(f"{k} {v}" for k, v in self.records.items()) or "none"
        out = [f"records read: {read}"]
        out.append(
            f"profiles: {self.profiles_created} created, {self.profiles_merged} merged, "
            f"{self.profiles_built} built, {self.profiles_skipped} already built"
        )
        out.append(
            f"kept apart: {self.conflicts} conflicts, "
            f"{self.possible_duplicates} possible duplicates"
        )
        if self.placeholders:
            found = ", ".join(f"{_mask(v)} ({n} people)" for v, n in self.placeholders.items())
            out.append(f"placeholders detected (never merged): {found}")
        if self.skipped_erased:
            out.append(f"erased people skipped: {self.skipped_erased}")
        for source, code in self.failed_sources.items():
            out.append(f"source failed: {source} ({code})")
        if self.lease_lost:
            out.append("stopped: the sync lease was lost to another run")
        return out


def _mask(value: str) -> str:
    """Placeholder values can be a real store's address; show enough to recognise it."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:2]}…@{domain}"
    return value[:-4] + "****" if len(value) > 4 else "****"


async def sync_customers(
    services: CustomerServices,
    *,
    since: datetime | None = None,
    incremental: bool = False,
    overlap: timedelta = DEFAULT_OVERLAP,
    progress: Progress | None = None,
    stop_after: int | None = None,
    holder: str = HOLDER,
    clock: Callable[[], datetime] = utcnow,
) -> SyncSummary:
    """Sync every customer: all of them (the default), those updated since ``since``, or
    (``incremental``) each source's changes since its own checkpoint minus ``overlap``.

    ``holder`` names who runs it in the lease (host and process by default); a run that
    finds another run holding the lease returns at once with ``busy`` set.

    ``stop_after`` stops after building that many profiles (tests use it to simulate an
    interrupted run)."""
    if incremental and since is not None:
        raise ValueError("an incremental sync reads from the checkpoints: give no since")
    summary = SyncSummary()
    # Each run is a holder of its own, so two runs in one process exclude each other too.
    run = f"{holder}#{secrets.token_hex(3)}"
    lease = Lease(services.store.leases, LEASE, run, ttl=LEASE_TTL, clock=clock)
    if not await lease.acquire():
        summary.busy = True
        return summary
    async with lease:
        await _run(
            services, summary, lease, since, incremental, overlap, progress, stop_after, clock
        )
    return summary


async def _run(
    services: CustomerServices,
    summary: SyncSummary,
    lease: Lease,
    since: datetime | None,
    incremental: bool,
    overlap: timedelta,
    progress: Progress | None,
    stop_after: int | None,
    clock: Callable[[], datetime],
) -> None:
    store = services.store
    checkpoint = dict(await store.checkpoints.get_checkpoint(CHECKPOINT) or {})
    resuming = checkpoint.get("state") == "building"
    started = datetime.fromisoformat(checkpoint["started_at"]) if resuming else clock()
    summary.resumed = resuming
    await store.checkpoints.set_checkpoint(
        CHECKPOINT,
        {"state": "reading", "started_at": started.isoformat(), "since": _iso(since)},
    )
    marks = await _source_checkpoints(services)
    if incremental:
        # Whole seconds, rounded down (a wider window, never a narrower one): every vendor's
        # filter syntax takes them.
        summary.since = {
            name: (mark - overlap).replace(microsecond=0) if mark else None
            for name, mark in marks.items()
        }
    else:
        summary.since = dict.fromkeys(marks, since)
    # The run began before anything was read; a change made after this is read next time.
    read_from = clock()

    await _learn_store_contacts(services)
    records = await _read_all(services, summary.since, summary, progress)
    newest = _newest(records)
    # The linker refuses records of erased people (as on every path) and counts them.
    report = await services.linker.link(records)
    summary.skipped_erased = report.skipped_erased
    summary.profiles_created = len(report.created)
    summary.profiles_merged = len(report.merged)
    summary.conflicts = len(report.conflicts)
    summary.possible_duplicates = len(report.possible_duplicates)
    summary.placeholders = dict(report.placeholders_found)

    profile_ids = sorted(report.touched)
    if since is None and not incremental:
        # A full backfill also rebuilds profiles whose records did not change.
        linked = await store.identities.get_identities([(r.source, r.id) for r in records])
        profile_ids = sorted({*profile_ids, *(i.profile_id for i in linked.values())})
    await store.checkpoints.set_checkpoint(
        CHECKPOINT,
        {"state": "building", "started_at": started.isoformat(), "since": _iso(since)},
    )
    built = 0
    for start in range(0, len(profile_ids), BATCH):
        if not lease.held:
            summary.lease_lost = True
            return
        batch = profile_ids[start : start + BATCH]
        if resuming:
            docs = await store.profiles.get_profiles(batch)
            done = {
                pid
                for pid, doc in docs.items()
                if doc.refreshed_at is not None and doc.refreshed_at >= started
            }
            summary.profiles_skipped += len(done)
            batch = [pid for pid in batch if pid not in done]
        loaders = services.customers.new_loaders()
        # Unbounded: a batch's calls are shared and paced by the vendors, not by a request.
        await asyncio.gather(
            *(services.customers.refresh(pid, loaders, bounded=False) for pid in batch)
        )
        built += len(batch)
        summary.profiles_built = built
        if progress:
            progress("profiles", min(start + BATCH, len(profile_ids)), len(profile_ids))
        if stop_after is not None and built >= stop_after:
            return
    if not lease.held:
        summary.lease_lost = True
        return
    summary.checkpoints = await _advance(services, summary, marks, newest, read_from)
    await store.checkpoints.set_checkpoint(
        CHECKPOINT,
        {"state": "done", "started_at": started.isoformat(), "finished_at": clock().isoformat()},
    )


def source_checkpoint(source: str) -> str:
    """The name of one source's high-water mark."""
    return f"{CHECKPOINT}:{source}"


def _source_names(services: CustomerServices) -> list[str]:
    return [
        *(str(c.source) for c in services.connectors.of(CustomerSource)),
        *(str(m.source) for m in services.connectors.of(MarketingDirectory)),
    ]


async def _source_checkpoints(services: CustomerServices) -> dict[str, datetime | None]:
    marks: dict[str, datetime | None] = {}
    for name in _source_names(services):
        value = await services.store.checkpoints.get_checkpoint(source_checkpoint(name))
        text = (value or {}).get("updated_at")
        marks[name] = datetime.fromisoformat(text) if isinstance(text, str) else None
    return marks


def _newest(records: list[CustomerRecord | MarketingProfile]) -> dict[str, datetime]:
    """The newest ``updated_at`` each source returned: a time on that vendor's clock."""
    newest: dict[str, datetime] = {}
    for record in records:
        name, at = str(record.source), record.updated_at
        if at is None:
            continue
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if name not in newest or at > newest[name]:
            newest[name] = at
    return newest


async def _advance(
    services: CustomerServices,
    summary: SyncSummary,
    marks: Mapping[str, datetime | None],
    newest: Mapping[str, datetime],
    read_from: datetime,
) -> dict[str, datetime]:
    """Move each source's checkpoint forward to what this run read, where the read covered
    everything since the old checkpoint and the source did not fail."""
    after: dict[str, datetime] = {}
    for name, mark in marks.items():
        asked = summary.since.get(name)
        covered = asked is None or (mark is not None and asked <= mark)
        candidate = newest.get(name)
        if name not in summary.failed_sources and covered and candidate is not None:
            # Not past the run's start: what changed while pages were read is read again.
            candidate = min(candidate, read_from)
            if mark is None or candidate > mark:
                await services.store.checkpoints.set_checkpoint(
                    source_checkpoint(name), {"updated_at": candidate.isoformat()}
                )
                mark = candidate
        if mark is not None:
            after[name] = mark
    return after


async def _read_all(
    services: CustomerServices,
    since: Mapping[str, datetime | None],
    summary: SyncSummary,
    progress: Progress | None,
) -> list[CustomerRecord | MarketingProfile]:
    records: list[CustomerRecord | MarketingProfile] = []
    sources: list[tuple[str, object]] = [
        *(
            (str(c.source), c.list_customers(updated_since=since.get(str(c.source))))
            for c in services.connectors.of(CustomerSource)
        ),
        *(
            (str(m.source), m.list_profiles(updated_since=since.get(str(m.source))))
            for m in services.connectors.of(MarketingDirectory)
        ),
    ]
    for name, pages in sources:
        count = 0
        try:
            async for page in pages:  # type: ignore[attr-defined]
                records.extend(page)
                count += len(page)
                if progress:
                    progress(f"reading {name}", count, 0)
        except UpstreamError as exc:
            summary.failed_sources[name] = exc.code
        summary.records[name] = summary.records.get(name, 0) + count
    return records


async def _learn_store_contacts(services: CustomerServices) -> None:
    """A store's own email and phone, typed at its counter for customers who give none, must
    never join anyone, however few strangers carry them."""
    try:
        locations = await services.locations.all()
    except UpstreamError:
        return
    region = services.config.default_phone_region
    values = [
        v
        for loc in locations.values()
        for v in (normalize_email(loc.email), normalize_phone(loc.phone, region))
        if v
    ]
    services.linker.placeholders.add(values)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
