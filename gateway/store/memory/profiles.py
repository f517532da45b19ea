"""Profiles in memory: a dict of frozen documents plus secondary indexes, so every lookup
the counter tablet makes (email, phone, name prefix) is an index probe, never a scan, even
at the demo's 50,000+ profiles."""

from __future__ import annotations

import asyncio
import json
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.store.memory.copying import copy_json
from gateway.store.timeutil import to_utc_or_none
from resolvers.model import ProfileDoc
from resolvers.store import VersionConflict


class _PrefixIndex:
    """Sorted ``(name key, profile id)`` pairs for prefix lookup with :func:`bisect`.

    Writes are buffered and folded in at the next lookup: inserting one by one into a sorted
    list moves half the list each time, which makes a 50,000-profile bulk load quadratic
    (seconds). Folding a large batch in is one Timsort over two sorted runs (linear); a small
    batch is folded in with ``insort``/``del`` so interleaved writes and reads stay cheap.
    """

    _SMALL = 32

    def __init__(self) -> None:
        self._keys: list[tuple[str, str]] = []
        self._added: set[tuple[str, str]] = set()
        self._removed: set[tuple[str, str]] = set()

    def add(self, name: str, profile_id: str) -> None:
        """Callers only add pairs that are absent (they diff old and new names)."""
        pair = (name, profile_id)
        if pair in self._removed:
            self._removed.discard(pair)  # still in ``_keys``: the removal is cancelled
        else:
            self._added.add(pair)

    def remove(self, name: str, profile_id: str) -> None:
        pair = (name, profile_id)
        if pair in self._added:
            self._added.discard(pair)  # never reached ``_keys``
        else:
            self._removed.add(pair)

    def _settle(self) -> None:
        keys = self._keys
        if self._removed:
            if len(self._removed) <= self._SMALL:
                for pair in self._removed:
                    i = bisect_left(keys, pair)
                    if i < len(keys) and keys[i] == pair:
                        del keys[i]
            else:
                removed = self._removed
                self._keys = keys = [pair for pair in keys if pair not in removed]
            self._removed = set()
        if self._added:
            if len(self._added) <= self._SMALL:
                for pair in self._added:
                    insort(keys, pair)
            else:
                keys.extend(self._added)
                keys.sort()
            self._added = set()

    def starting_with(self, prefix: str) -> Iterator[str]:
        """Profile ids in name-key order (a profile may repeat: one per matching key)."""
        self._settle()
        keys = self._keys
        i = bisect_left(keys, (prefix,))
        while i < len(keys) and keys[i][0].startswith(prefix):
            yield keys[i][1]
            i += 1


def _reindex(
    index: dict[str, set[str]], old: Iterable[str], new: Iterable[str], profile_id: str
) -> None:
    old_set, new_set = set(old), set(new)
    for value in old_set - new_set:
        ids = index.get(value)
        if ids is not None:
            ids.discard(profile_id)
            if not ids:
                del index[value]
    for value in new_set - old_set:
        index.setdefault(value, set()).add(profile_id)


@dataclass(frozen=True, slots=True)
class _StoredProfile:
    """A profile as the memory store keeps it: lookup keys as tuples, and the opaque body
    frozen as a JSON string. Profiles are the hot path (every put and every lookup copies
    one), and ``json.loads`` rebuilds a body several times faster than a Python-level deep
    copy. The contract says bodies are JSON-safe; one that is not (a datetime inside, say)
    falls back to a deep copy rather than failing."""

    id: str
    body: str | dict[str, Any]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    names: tuple[str, ...]
    refreshed_at: datetime | None
    version: int
    retired: bool = False

    @classmethod
    def stub(cls, profile_id: str, version: int) -> _StoredProfile:
        """What a deleted profile leaves: its id and version, no personal data."""
        return cls(profile_id, "{}", (), (), (), None, version, retired=True)

    @classmethod
    def of(cls, doc: ProfileDoc, version: int) -> _StoredProfile:
        try:
            body: str | dict[str, Any] = json.dumps(doc.body)
        except (TypeError, ValueError):
            body = copy_json(doc.body)
        return cls(
            id=doc.id,
            body=body,
            emails=tuple(doc.emails),
            phones=tuple(doc.phones),
            names=tuple(doc.names),
            refreshed_at=to_utc_or_none(doc.refreshed_at),
            version=version,
        )

    def doc(self) -> ProfileDoc:
        return ProfileDoc(
            id=self.id,
            body=json.loads(self.body) if isinstance(self.body, str) else copy_json(self.body),
            emails=list(self.emails),
            phones=list(self.phones),
            names=list(self.names),
            refreshed_at=self.refreshed_at,
            version=self.version,
            retired=self.retired,
        )


class MemoryProfiles:
    """The :class:`~resolvers.store.ProfileStore` of the memory store."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._profiles: dict[str, _StoredProfile] = {}
        self._by_email: dict[str, set[str]] = {}
        self._by_phone: dict[str, set[str]] = {}
        self._names = _PrefixIndex()

    async def get_profiles(
        self, ids: Sequence[str], *, include_retired: bool = False
    ) -> dict[str, ProfileDoc]:
        found: dict[str, ProfileDoc] = {}
        for profile_id in ids:
            doc = self._profiles.get(profile_id)
            if doc is not None and (include_retired or not doc.retired):
                found[profile_id] = doc.doc()
        return found

    async def put_profile(
        self, doc: ProfileDoc, *, expected_version: int | None = None
    ) -> ProfileDoc:
        async with self._lock:
            current = self._profiles.get(doc.id)
            current_version = current.version if current is not None else 0
            if expected_version is not None and expected_version != current_version:
                raise VersionConflict(
                    f"profile {doc.id}: expected version {expected_version}, "
                    f"found {current_version if current is not None else 'none'}"
                )
            stored = _StoredProfile.of(doc, current_version + 1)
            self._index(doc.id, current, stored)
            self._profiles[doc.id] = stored
            return stored.doc()

    async def delete_profile(self, profile_id: str) -> bool:
        async with self._lock:
            current = self._profiles.get(profile_id)
            if current is None:
                self._profiles[profile_id] = _StoredProfile.stub(profile_id, 1)
                return False
            self._index(profile_id, current, None)
            self._profiles[profile_id] = _StoredProfile.stub(profile_id, current.version + 1)
            return not current.retired

    async def invalidate_profiles(self, profile_ids: Sequence[str]) -> None:
        async with self._lock:
            for profile_id in dict.fromkeys(profile_ids):
                current = self._profiles.get(profile_id)
                if current is None:
                    self._profiles[profile_id] = _StoredProfile(
                        profile_id, "{}", (), (), (), None, 1
                    )
                else:
                    self._profiles[profile_id] = replace(
                        current, version=current.version + 1, refreshed_at=None
                    )

    def _index(self, pid: str, old: _StoredProfile | None, new: _StoredProfile | None) -> None:
        _reindex(self._by_email, old.emails if old else (), new.emails if new else (), pid)
        _reindex(self._by_phone, old.phones if old else (), new.phones if new else (), pid)
        old_names = set(old.names) if old else set()
        new_names = set(new.names) if new else set()
        for name in old_names - new_names:
            self._names.remove(name, pid)
        for name in new_names - old_names:
            self._names.add(name, pid)

    async def find_profiles(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        name_prefix: str | None = None,
        limit: int = 10,
    ) -> list[ProfileDoc]:
        """Union of the criteria given, email matches first, then phone, then names in key
        order; no criterion (or an empty name prefix, which would match everyone) finds
        nothing."""
        if limit <= 0:
            return []
        ids: dict[str, None] = {}

        def take(candidates: Iterable[str]) -> bool:
            for profile_id in candidates:
                ids.setdefault(profile_id)
                if len(ids) >= limit:
                    return True
            return False

        done = False
        if email:
            done = take(sorted(self._by_email.get(email, ())))
        if phone and not done:
            done = take(sorted(self._by_phone.get(phone, ())))
        prefix = (name_prefix or "").strip().lower()
        if prefix and not done:
            take(self._names.starting_with(prefix))
        return [self._profiles[profile_id].doc() for profile_id in ids]
