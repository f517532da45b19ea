"""Identities, the merge log and tombstones in memory, indexed by profile, email and phone
like the MongoDB collections are."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from connectors.records import Source
from gateway.store.memory.copying import copy_json
from gateway.store.timeutil import to_utc, to_utc_or_none
from resolvers.model import Identity, MergeLogEntry

_IdentityKey = tuple[Source, str]


def _older(new: Identity, stored: Identity) -> bool:
    """True when ``new`` carries facts from an older vendor record than ``stored``."""
    return (
        new.source_updated_at is not None
        and stored.source_updated_at is not None
        and new.source_updated_at < stored.source_updated_at
    )


def _copy_merge(entry: MergeLogEntry) -> MergeLogEntry:
    return replace(entry, before=copy_json(entry.before))


class MemoryIdentities:
    """The :class:`~resolvers.store.IdentityStore` of the memory store. Identities are frozen
    records with immutable fields, so they are shared, not copied."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._identities: dict[_IdentityKey, Identity] = {}
        self._by_profile: dict[str, set[_IdentityKey]] = {}
        self._by_email: dict[str, set[_IdentityKey]] = {}
        self._by_phone: dict[str, set[_IdentityKey]] = {}
        # merge log: entries by id with their append sequence, and ids per named profile
        self._merge: dict[str, tuple[int, MergeLogEntry]] = {}
        self._merge_seq = 0
        self._merge_by_profile: dict[str, set[str]] = {}
        # erased identifiers (digests only)
        self._tombstones: set[str] = set()

    async def link_identities(self, identities: Sequence[Identity]) -> None:
        async with self._lock:
            for identity in identities:
                key = (Source(identity.source), identity.source_id)
                old = self._identities.get(key)
                stored = replace(
                    identity,
                    source=key[0],
                    emails=tuple(identity.emails),
                    phones=tuple(identity.phones),
                    linked_at=to_utc_or_none(identity.linked_at),
                    source_updated_at=to_utc_or_none(identity.source_updated_at),
                )
                if old is not None and _older(stored, old):
                    continue
                if old is not None and stored.source_updated_at is None:
                    stored = replace(stored, source_updated_at=old.source_updated_at)
                if old is not None:
                    self._unindex(key, old)
                self._identities[key] = stored
                self._by_profile.setdefault(stored.profile_id, set()).add(key)
                for email in stored.emails:
                    self._by_email.setdefault(email, set()).add(key)
                for phone in stored.phones:
                    self._by_phone.setdefault(phone, set()).add(key)

    def _unindex(self, key: _IdentityKey, identity: Identity) -> None:
        for index, values in (
            (self._by_profile, (identity.profile_id,)),
            (self._by_email, identity.emails),
            (self._by_phone, identity.phones),
        ):
            for value in values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    async def get_identities(
        self, keys: Sequence[tuple[Source, str]]
    ) -> dict[tuple[Source, str], Identity]:
        found: dict[tuple[Source, str], Identity] = {}
        for source, source_id in keys:
            identity = self._identities.get((Source(source), source_id))
            if identity is not None:
                found[(source, source_id)] = identity
        return found

    async def identities_of(self, profile_ids: Sequence[str]) -> dict[str, list[Identity]]:
        """Every requested id is a key (an empty list when it has no identities), so callers
        can index the result without ``get``."""
        return {
            profile_id: [
                self._identities[key] for key in sorted(self._by_profile.get(profile_id, ()))
            ]
            for profile_id in profile_ids
        }

    async def find_identities(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = ()
    ) -> list[Identity]:
        keys: set[_IdentityKey] = set()
        for email in emails:
            keys.update(self._by_email.get(email, ()))
        for phone in phones:
            keys.update(self._by_phone.get(phone, ()))
        return [self._identities[key] for key in sorted(keys)]

    async def delete_identities(self, profile_id: str) -> int:
        async with self._lock:
            keys = list(self._by_profile.get(profile_id, ()))
            for key in keys:
                self._unindex(key, self._identities.pop(key))
            return len(keys)

    async def delete_identity(self, source: Source, source_id: str) -> Identity | None:
        async with self._lock:
            key = (Source(source), source_id)
            identity = self._identities.pop(key, None)
            if identity is not None:
                self._unindex(key, identity)
            return identity

    # --- merge log ------------------------------------------------------------------------

    async def append_merge_log(self, entry: MergeLogEntry) -> None:
        """A repeated entry id is ignored, so a retried merge does not log twice."""
        async with self._lock:
            if entry.id in self._merge:
                return
            stored = replace(
                entry,
                profile_ids=tuple(entry.profile_ids),
                at=to_utc(entry.at),
                before=copy_json(entry.before),
            )
            self._merge_seq += 1
            self._merge[entry.id] = (self._merge_seq, stored)
            for profile_id in stored.profile_ids:
                self._merge_by_profile.setdefault(profile_id, set()).add(entry.id)

    async def merge_log(self, profile_id: str) -> list[MergeLogEntry]:
        found = [self._merge[i] for i in self._merge_by_profile.get(profile_id, ())]
        found.sort(key=lambda item: (item[1].at, item[0]))  # append order breaks ties
        return [_copy_merge(entry) for _, entry in found]

    async def delete_merge_log(self, profile_id: str) -> int:
        """Every entry naming the profile goes, including from the other profiles' logs:
        an entry about a merge with an erased person still names that person."""
        async with self._lock:
            entry_ids = self._merge_by_profile.pop(profile_id, set())
            for entry_id in entry_ids:
                _, entry = self._merge.pop(entry_id)
                for other in entry.profile_ids:
                    ids = self._merge_by_profile.get(other)
                    if ids is not None:
                        ids.discard(entry_id)
                        if not ids:
                            del self._merge_by_profile[other]
            return len(entry_ids)

    # --- tombstones -----------------------------------------------------------------------

    async def add_tombstones(self, digests: Sequence[str]) -> None:
        self._tombstones.update(digests)

    async def tombstoned(self, digests: Sequence[str]) -> set[str]:
        return {digest for digest in digests if digest in self._tombstones}
