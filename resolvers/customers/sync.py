"""Backfill and incremental sync of every customer from every source.

1. Read every customer (and every marketing profile) from each enabled source, page by page,
   optionally only those updated since a date.
2. Resolve them together with what the store already knows (``Linker``): stable profile ids,
   merges logged, conflicts and placeholders reported.
3. Build each touched profile from its sources, in batches that share DataLoaders.

Resumable: a checkpoint records when the run started and how far the build got. Linking is
idempotent (identities are unique per source record), so a rerun after a stop links the same
clusters to the same ids, and skips profiles the stopped run already built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.capabilities import CustomerSource, MarketingDirectory
from connectors.errors import UpstreamError
from connectors.records import CustomerRecord, MarketingProfile
from resolvers.context import Services
from resolvers.customers.admin import tombstone
from resolvers.customers.linking import facts_of
from resolvers.customers.service import utcnow
from resolvers.identity.normalize import normalize_email, normalize_phone
from resolvers.loaders import Loaders

CHECKPOINT = "sync:customers"
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

    def lines(self) -> list[str]:
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
        return out


def _mask(value: str) -> str:
    """Placeholder values can be a real store's address; show enough to recognise it."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:2]}…@{domain}"
    return value[:-4] + "****" if len(value) > 4 else "****"


async def sync_customers(
    services: Services,
    *,
    since: datetime | None = None,
    progress: Progress | None = None,
    stop_after: int | None = None,
) -> SyncSummary:
    """``stop_after`` stops after building that many profiles (tests use it to simulate an
    interrupted run)."""
    store = services.store
    summary = SyncSummary()
    checkpoint = dict(await store.get_checkpoint(CHECKPOINT) or {})
    resuming = checkpoint.get("state") == "building"
    started = datetime.fromisoformat(checkpoint["started_at"]) if resuming else utcnow()
    summary.resumed = resuming
    await store.set_checkpoint(
        CHECKPOINT,
        {"state": "reading", "started_at": started.isoformat(), "since": _iso(since)},
    )

    await _learn_store_contacts(services)
    records = await _read_all(services, since, summary, progress)
    records = await _drop_erased(services, records, summary)
    report = await services.linker.link(records)
    summary.profiles_created = len(report.created)
    summary.profiles_merged = len(report.merged)
    summary.conflicts = len(report.conflicts)
    summary.possible_duplicates = len(report.possible_duplicates)
    summary.placeholders = dict(report.placeholders_found)
    for profile_id in report.emptied:
        await store.delete_profile(profile_id)

    profile_ids = sorted(report.touched)
    if since is None:
        # A full backfill also rebuilds profiles whose records did not change.
        linked = await store.get_identities([(r.source, r.id) for r in records])
        profile_ids = sorted({*profile_ids, *(i.profile_id for i in linked.values())})
    await store.set_checkpoint(
        CHECKPOINT,
        {"state": "building", "started_at": started.isoformat(), "since": _iso(since)},
    )
    built = 0
    for start in range(0, len(profile_ids), BATCH):
        batch = profile_ids[start : start + BATCH]
        if resuming:
            docs = await store.get_profiles(batch)
            done = {
                pid
                for pid, doc in docs.items()
                if doc.refreshed_at is not None and doc.refreshed_at >= started
            }
            summary.profiles_skipped += len(done)
            batch = [pid for pid in batch if pid not in done]
        loaders = Loaders()
        # Unbounded: a batch's calls are shared and paced by the vendors, not by a request.
        await asyncio.gather(
            *(services.customers.refresh(pid, loaders, bounded=False) for pid in batch)
        )
        built += len(batch)
        summary.profiles_built = built
        if progress:
            progress("profiles", min(start + BATCH, len(profile_ids)), len(profile_ids))
        if stop_after is not None and built >= stop_after:
            return summary
    await store.set_checkpoint(
        CHECKPOINT,
        {"state": "done", "started_at": started.isoformat(), "finished_at": utcnow().isoformat()},
    )
    return summary


async def _read_all(
    services: Services, since: datetime | None, summary: SyncSummary, progress: Progress | None
) -> list[CustomerRecord | MarketingProfile]:
    records: list[CustomerRecord | MarketingProfile] = []
    sources: list[tuple[str, object]] = [
        *(
            (str(c.source), c.list_customers(updated_since=since))
            for c in services.connectors.of(CustomerSource)
        ),
        *(
            (str(m.source), m.list_profiles(updated_since=since))
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


async def _drop_erased(
    services: Services, records: list[CustomerRecord | MarketingProfile], summary: SyncSummary
) -> list[CustomerRecord | MarketingProfile]:
    region = services.config.default_phone_region
    digests: dict[int, list[str]] = {}
    for i, record in enumerate(records):
        facts = facts_of(record, region)
        digests[i] = [
            tombstone(record.source, record.id),
            *(tombstone(None, e) for e in facts.emails),
        ]
    everything = sorted({d for ds in digests.values() for d in ds})
    erased: set[str] = set()
    for start in range(0, len(everything), 1000):
        erased |= await services.store.tombstoned(everything[start : start + 1000])
    if not erased:
        return records
    kept = [r for i, r in enumerate(records) if not erased.intersection(digests[i])]
    summary.skipped_erased = len(records) - len(kept)
    return kept


async def _learn_store_contacts(services: Services) -> None:
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
