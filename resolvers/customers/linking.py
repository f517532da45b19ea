"""Writing identity resolution into the store: which unified profile each record belongs to.

New records are resolved together with every stored identity that shares an email or phone
with them (and the rest of those identities' profiles), so a webhook about one customer and a
full backfill apply exactly the same rules. Profile ids are stable: a cluster keeps the id its
identities already had; when a cluster joins two stored profiles, the older id survives and
the merge is logged with what each side held before, so it can be undone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.records import CustomerRecord, MarketingProfile, Source
from resolvers.customers.retire import OnRetired, retire_profile
from resolvers.customers.tombstones import digests_of, erased_among
from resolvers.identity.normalize import name_key, normalize_email, normalize_phone
from resolvers.identity.placeholders import Placeholders
from resolvers.identity.resolve import IdentityFacts, Key, Link, default_limits, resolve
from resolvers.model import Identity, MergeLogEntry
from resolvers.store import Store

#: Stores take lists of values in one query; keep each list a sane size.
_CHUNK = 500


def new_profile_id() -> str:
    return "cus_" + secrets.token_hex(8)


def facts_of(record: CustomerRecord | MarketingProfile, region: str) -> IdentityFacts:
    raw_emails: tuple[str | None, ...]
    raw_phones: tuple[str | None, ...]
    if isinstance(record, CustomerRecord):
        raw_emails, raw_phones = record.emails, record.phones
    else:
        raw_emails, raw_phones = (record.email,), (record.phone,)
    emails = tuple(dict.fromkeys(e for e in map(normalize_email, raw_emails) if e))
    phones = tuple(dict.fromkeys(p for p in (normalize_phone(r, region) for r in raw_phones) if p))
    return IdentityFacts(
        record.source, record.id, emails, phones, name_key(record.first_name, record.last_name)
    )


def _facts_of_identity(identity: Identity) -> IdentityFacts:
    return IdentityFacts(
        identity.source, identity.source_id, identity.emails, identity.phones, identity.name
    )


@dataclass(slots=True)
class LinkReport:
    #: Profiles whose identities changed: they need a rebuild.
    touched: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    merged: list[tuple[str, list[str]]] = field(default_factory=list)
    conflicts: list[Link] = field(default_factory=list)
    possible_duplicates: list[Link] = field(default_factory=list)
    placeholders_found: dict[str, int] = field(default_factory=dict)
    #: Profiles left with no identity (merged away): their cached documents are retired.
    emptied: set[str] = field(default_factory=set)
    #: Records of erased people, refused.
    skipped_erased: int = 0
    #: Records older than the facts already stored from their vendor, refused.
    skipped_stale: int = 0


class Linker:
    def __init__(
        self,
        store: Store,
        *,
        region: str = "US",
        limits: dict[Source, int] | None = None,
        placeholders: Placeholders | None = None,
        placeholder_threshold: int = 5,
        clock: Callable[[], datetime],
        new_id: Callable[[], str] = new_profile_id,
    ) -> None:
        self.store = store
        self.region = region
        self.limits = limits or default_limits()
        self.placeholders = placeholders or Placeholders()
        self.placeholder_threshold = placeholder_threshold
        self.clock = clock
        self.new_id = new_id
        #: Told the loyalty accounts a merge moved entries between (see ProfileAdmin).
        self.accounts_moved: Callable[[Sequence[str]], None] | None = None
        #: Told each profile it retires (see :data:`resolvers.customers.retire.OnRetired`).
        self.on_retired: OnRetired | None = None

    async def link(self, records: Iterable[CustomerRecord | MarketingProfile]) -> LinkReport:
        """Resolve ``records`` with their stored neighbours and write the outcome.

        Records of erased people are refused (whichever path brings them), and so is a
        record older than what its vendor already told us. Every profile whose identities
        change is invalidated after the write, so a rebuild that read the old identities
        cannot store a profile built from them.
        """
        all_facts = [(facts_of(r, self.region), r.updated_at) for r in records]
        erased = await erased_among(
            self.store.identities,
            {n: digests_of(f.source, f.source_id, f.emails) for n, (f, _) in enumerate(all_facts)},
        )
        incoming = {f.key: f for n, (f, _) in enumerate(all_facts) if n not in erased}
        stamps = {f.key: _aware(at) for f, at in all_facts}
        existing = await self._neighbourhood(list(incoming.values()))
        stale = [
            key
            for key in incoming
            if _older(stamps.get(key), existing[key].source_updated_at if key in existing else None)
        ]
        for key in stale:
            del incoming[key]
        facts = {i_key: _facts_of_identity(i) for i_key, i in existing.items()}
        facts.update(incoming)  # a changed record replaces what we stored of it
        keep_apart, keep_together = await self._decisions({i.profile_id for i in existing.values()})
        result = resolve(
            facts.values(),
            limits=self.limits,
            placeholders=self.placeholders,
            placeholder_threshold=self.placeholder_threshold,
            keep_apart=keep_apart,
            keep_together=keep_together,
        )
        report = LinkReport(
            conflicts=result.conflicts,
            possible_duplicates=result.possible_duplicates,
            placeholders_found=result.placeholders_found,
            skipped_erased=len(erased),
            skipped_stale=len(stale),
        )
        now = self.clock()
        to_link: list[Identity] = []
        reasons: dict[Key, str] = {}
        for link in result.links:
            reasons.setdefault(link.a, link.reason)
            reasons.setdefault(link.b, link.reason)
        claimed: set[str] = set()
        assigned: dict[Key, str] = {}
        regrouped: set[str] = set()
        for cluster in result.clusters:
            before: dict[str, list[Key]] = {}
            for member in cluster:
                old = existing.get(member.key)
                if old is not None:
                    before.setdefault(old.profile_id, []).append(member.key)
            # The id held by most members survives (ties: the smallest id, so it is stable);
            # an id already given to another cluster (a split) is not reused.
            candidates = sorted(
                (pid for pid in before if pid not in claimed),
                key=lambda pid: (-len(before[pid]), pid),
            )
            profile_id = candidates[0] if candidates else self.new_id()
            claimed.add(profile_id)
            if not candidates:
                report.created.add(profile_id)
            if len(before) > 1:
                report.merged.append((profile_id, sorted(before)))
                await self.store.identities.append_merge_log(
                    MergeLogEntry(
                        id=self.new_id().replace("cus_", "mrg_"),
                        action="merge",
                        profile_ids=(profile_id, *sorted(p for p in before if p != profile_id)),
                        reason=_cluster_reason(cluster, reasons),
                        at=now,
                        actor="resolver",
                        before={pid: [list(k) for k in keys] for pid, keys in before.items()},
                    )
                )
            for member in cluster:
                assigned[member.key] = profile_id
                old = existing.get(member.key)
                if old is None or old.profile_id != profile_id or member.key in incoming:
                    to_link.append(
                        Identity(
                            source=member.source,
                            source_id=member.source_id,
                            profile_id=profile_id,
                            emails=member.emails,
                            phones=member.phones,
                            name=member.name,
                            linked_at=now,
                            reason=reasons.get(member.key),
                            source_updated_at=stamps.get(member.key)
                            if member.key in incoming
                            else (old.source_updated_at if old is not None else None),
                        )
                    )
                    report.touched.add(profile_id)
                    if old is not None and old.profile_id != profile_id:
                        report.touched.add(old.profile_id)
                    # What a rebuild reads of its identities: which records, and their
                    # emails (guest orders). A record repeated unchanged changes neither.
                    if old is None or old.profile_id != profile_id or old.emails != member.emails:
                        regrouped.add(profile_id)
                        if old is not None:
                            regrouped.add(old.profile_id)
        for start in range(0, len(to_link), _CHUNK):
            await self.store.identities.link_identities(to_link[start : start + _CHUNK])
        await self._undo_erased_meanwhile(to_link)
        previous = {i.profile_id for i in existing.values()}
        report.emptied = previous - claimed
        report.touched -= report.emptied
        changed = sorted(regrouped - report.emptied)
        for start in range(0, len(changed), _CHUNK):
            await self.store.profiles.invalidate_profiles(changed[start : start + _CHUNK])
        for profile_id in sorted(report.emptied):
            await retire_profile(self.store, profile_id, on_retired=self.on_retired)
        # A profile merged away hands its points (the ledger) to the one that absorbed it.
        for survivor, merged in report.merged:
            for profile_id in merged:
                if profile_id == survivor or profile_id not in report.emptied:
                    continue
                moved = await self.store.ledger.move_entries(profile_id, survivor)
                if moved and self.accounts_moved is not None:
                    self.accounts_moved([profile_id, survivor])
        for link in [*result.conflicts, *result.possible_duplicates]:
            a, b = assigned.get(link.a), assigned.get(link.b)
            if a and b and a != b:
                await self._note_possible_duplicate(a, b, link.reason, now)
        return report

    async def _undo_erased_meanwhile(self, linked: Sequence[Identity]) -> None:
        """An erasure that started after our tombstone check writes its tombstones before it
        deletes anything; asking again after our write catches it, and what we linked of
        the erased person goes."""
        if not linked:
            return
        erased = await erased_among(
            self.store.identities,
            {n: digests_of(i.source, i.source_id, i.emails) for n, i in enumerate(linked)},
        )
        for n in sorted(erased):
            await self.store.identities.delete_identity(linked[n].source, linked[n].source_id)

    async def _note_possible_duplicate(self, a: str, b: str, reason: str, now: datetime) -> None:
        """Kept apart, but a person may want to look: logged once per pair and reason, and
        shown on both customers as ``possibleDuplicates``."""
        pair = {a, b}
        for entry in await self.store.identities.merge_log(a):
            if (
                entry.action == "possible_duplicate"
                and set(entry.profile_ids) == pair
                and entry.reason == reason
            ):
                return
        await self.store.identities.append_merge_log(
            MergeLogEntry(
                id=self.new_id().replace("cus_", "dup_"),
                action="possible_duplicate",
                profile_ids=(a, b),
                reason=reason,
                at=now,
                actor="resolver",
            )
        )

    async def _neighbourhood(self, facts: Sequence[IdentityFacts]) -> dict[Key, Identity]:
        """Stored identities that share a value with the incoming records, plus every other
        identity of their profiles (a profile is resolved whole or not at all)."""
        emails = sorted({e for f in facts for e in f.emails})
        phones = sorted({p for f in facts for p in f.phones})
        found: dict[Key, Identity] = {}
        for start in range(0, max(len(emails), len(phones)), _CHUNK):
            for identity in await self.store.identities.find_identities(
                emails=emails[start : start + _CHUNK], phones=phones[start : start + _CHUNK]
            ):
                found[(identity.source, identity.source_id)] = identity
        keys = [f.key for f in facts]
        for start in range(0, len(keys), _CHUNK):
            for key, identity in (
                await self.store.identities.get_identities(keys[start : start + _CHUNK])
            ).items():
                found[key] = identity
        profile_ids = sorted({i.profile_id for i in found.values()})
        for start in range(0, len(profile_ids), _CHUNK):
            grouped = await self.store.identities.identities_of(profile_ids[start : start + _CHUNK])
            for identities in grouped.values():
                for identity in identities:
                    found[(identity.source, identity.source_id)] = identity
        return found

    async def _decisions(
        self, profile_ids: set[str]
    ) -> tuple[list[tuple[Key, Key]], list[tuple[Key, Key]]]:
        """What operators decided for these profiles: pairs split with ``unmergeCustomer``
        stay apart, pairs joined with ``mergeCustomers`` stay together, whatever the data
        says later. The newest decision about a pair wins."""
        decided: dict[frozenset[Key], tuple[datetime, bool]] = {}
        for profile_id in sorted(profile_ids):
            for entry in await self.store.identities.merge_log(profile_id):
                if entry.actor == "resolver" or entry.action not in ("merge", "unmerge"):
                    continue
                groups = [[(Source(s), i) for s, i in keys] for keys in entry.before.values()]
                for gi, group in enumerate(groups):
                    for other in groups[gi + 1 :]:
                        for a in group:
                            for b in other:
                                pair = frozenset((a, b))
                                if pair not in decided or decided[pair][0] <= entry.at:
                                    decided[pair] = (entry.at, entry.action == "merge")
        apart: list[tuple[Key, Key]] = []
        together: list[tuple[Key, Key]] = []
        for pair, (_, joined) in decided.items():
            a, b = sorted(pair, key=lambda k: (k[0].value, k[1]))
            (together if joined else apart).append((a, b))
        return apart, together


def _aware(value: datetime | None) -> datetime | None:
    """Vendor stamps without a zone are UTC (as the store keeps them)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _older(incoming: datetime | None, stored: datetime | None) -> bool:
    if incoming is None or stored is None:
        return False
    return incoming < (stored if stored.tzinfo else stored.replace(tzinfo=UTC))


def _cluster_reason(cluster: Sequence[IdentityFacts], reasons: dict[Key, str]) -> str:
    found = sorted({reasons[m.key] for m in cluster if m.key in reasons})
    return ", ".join(found) or "resolution"
