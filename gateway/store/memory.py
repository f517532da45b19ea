"""The in-process :class:`~resolvers.store.Store`: the embedded demo and fast tests.

It keeps the same contract as the MongoDB store (the shared contract suite runs against both)
and the same performance shape: every lookup the counter tablet makes goes through a
secondary index (a dict, or a sorted list searched with :mod:`bisect` for name prefixes), so
the demo's 50,000+ profiles answer in O(log n), never by a scan.

Concurrency: the event loop is single-threaded, so a method that does not ``await`` between
its check and its write is already atomic. The invariant-guarding writes still take
``self._lock``: it documents where atomicity matters and keeps it true if a future edit adds an
``await`` inside one of those sections.

Nothing internal escapes: mutable records (stock quantities, ledger ``meta``, merge-log
``before``, checkpoints) are copied on the way in and on the way out, profiles are kept frozen
(see ``_StoredProfile``), and the frozen records with only immutable fields (holds,
identities, accounts) are shared safely.

Datetimes are normalised like BSON does (UTC, milliseconds), so values read back compare equal
whichever backend runs.
"""

from __future__ import annotations

import asyncio
import copy
import json
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.records import Source
from gateway.store.timeutil import to_utc, to_utc_or_none, utc_now
from resolvers.model import (
    Hold,
    HoldStatus,
    Identity,
    LedgerEntry,
    LedgerKind,
    LedgerResult,
    LoyaltyAccount,
    MergeLogEntry,
    ProfileDoc,
    StockLevel,
)
from resolvers.store import DeadLetter, ReceiptClaim, VersionConflict

DEFAULT_RECEIPT_RETENTION = timedelta(days=7)
DEFAULT_DEAD_LETTER_RETENTION = timedelta(days=14)

_IdentityKey = tuple[Source, str]


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


def _copy_json(value: Any) -> Any:
    """A deep copy specialised for the JSON-shaped documents the store holds (dicts, lists,
    scalars): several times faster than :func:`copy.deepcopy`, which matters when the demo
    loads and serves tens of thousands of profiles. Anything else falls back to deepcopy."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool | datetime):
        return value  # immutable
    return copy.deepcopy(value)


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
            body = _copy_json(doc.body)
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
            body=json.loads(self.body) if isinstance(self.body, str) else _copy_json(self.body),
            emails=list(self.emails),
            phones=list(self.phones),
            names=list(self.names),
            refreshed_at=self.refreshed_at,
            version=self.version,
            retired=self.retired,
        )


def _older(new: Identity, stored: Identity) -> bool:
    """True when ``new`` carries facts from an older vendor record than ``stored``."""
    return (
        new.source_updated_at is not None
        and stored.source_updated_at is not None
        and new.source_updated_at < stored.source_updated_at
    )


def _copy_stock(level: StockLevel) -> StockLevel:
    return replace(level, quantities=dict(level.quantities))


def _copy_entry(entry: LedgerEntry) -> LedgerEntry:
    return replace(entry, meta=_copy_json(entry.meta))


def _copy_merge(entry: MergeLogEntry) -> MergeLogEntry:
    return replace(entry, before=_copy_json(entry.before))


def _require_new_hold(hold: Hold) -> None:
    if hold.quantity <= 0:
        raise ValueError("a hold must reserve at least one unit")
    if hold.status is not HoldStatus.ACTIVE:
        raise ValueError("a new hold must be active")


def _require_final(status: HoldStatus) -> None:
    if status is HoldStatus.ACTIVE:
        raise ValueError("finish_hold needs a final status, not active")


def _moved_account(
    account: LoyaltyAccount | None, entry: LedgerEntry, now: datetime
) -> LoyaltyAccount:
    """The account after ``entry``. Lifetime earned counts every positive movement;
    lifetime redeemed counts only redemptions (a claw-back or expiry is not a reward the
    person chose to spend)."""
    base = account or LoyaltyAccount(id=entry.account_id)
    return LoyaltyAccount(
        id=base.id,
        balance=base.balance + entry.points,
        lifetime_earned=base.lifetime_earned + max(entry.points, 0),
        lifetime_redeemed=base.lifetime_redeemed
        + (-entry.points if entry.kind is LedgerKind.REDEEM and entry.points < 0 else 0),
        updated_at=now,
    )


class MemoryStore:
    """Dicts plus secondary indexes; see the module docstring for the guarantees."""

    kind: str = "memory"

    def __init__(
        self,
        *,
        receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
        dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
    ) -> None:
        self._lock = asyncio.Lock()
        self._receipt_retention = receipt_retention
        self._dead_letter_retention = dead_letter_retention
        # profiles
        self._profiles: dict[str, _StoredProfile] = {}
        self._profiles_by_email: dict[str, set[str]] = {}
        self._profiles_by_phone: dict[str, set[str]] = {}
        self._profile_names = _PrefixIndex()
        # identities
        self._identities: dict[_IdentityKey, Identity] = {}
        self._identities_by_profile: dict[str, set[_IdentityKey]] = {}
        self._identities_by_email: dict[str, set[_IdentityKey]] = {}
        self._identities_by_phone: dict[str, set[_IdentityKey]] = {}
        # merge log: entries by id with their append sequence, and ids per named profile
        self._merge: dict[str, tuple[int, MergeLogEntry]] = {}
        self._merge_seq = 0
        self._merge_by_profile: dict[str, set[str]] = {}
        # erased identifiers (digests only)
        self._tombstones: set[str] = set()
        # stock: sku -> location -> level
        self._stock: dict[str, dict[str, StockLevel]] = {}
        # holds
        self._holds: dict[str, Hold] = {}
        self._hold_keys: dict[str, str] = {}
        self._active_holds: set[str] = set()
        # loyalty
        self._ledger: dict[str, LedgerEntry] = {}
        self._ledger_by_account: dict[str, list[str]] = {}
        self._accounts: dict[str, LoyaltyAccount] = {}
        # webhooks and sync
        self._receipts: dict[tuple[Source, str], datetime] = {}
        self._receipt_order: deque[tuple[datetime, tuple[Source, str]]] = deque()
        self._checkpoints: dict[str, dict[str, Any]] = {}
        # webhook claims (receipt key -> the claim's time, while unfinished) and dead letters
        self._pending_claims: dict[tuple[Source, str], datetime] = {}
        self._dead_letters: dict[tuple[Source, str], DeadLetter] = {}

        #: Lease name -> (holder, held until).
        self._leases: dict[str, tuple[str, datetime]] = {}

    async def init(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    # --- profiles ---------------------------------------------------------------------------

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
            self._index_profile(doc.id, current, stored)
            self._profiles[doc.id] = stored
            return stored.doc()

    async def delete_profile(self, profile_id: str) -> bool:
        async with self._lock:
            current = self._profiles.get(profile_id)
            if current is None:
                self._profiles[profile_id] = _StoredProfile.stub(profile_id, 1)
                return False
            self._index_profile(profile_id, current, None)
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

    def _index_profile(
        self, pid: str, old: _StoredProfile | None, new: _StoredProfile | None
    ) -> None:
        _reindex(
            self._profiles_by_email,
            old.emails if old else (),
            new.emails if new else (),
            pid,
        )
        _reindex(
            self._profiles_by_phone,
            old.phones if old else (),
            new.phones if new else (),
            pid,
        )
        old_names = set(old.names) if old else set()
        new_names = set(new.names) if new else set()
        for name in old_names - new_names:
            self._profile_names.remove(name, pid)
        for name in new_names - old_names:
            self._profile_names.add(name, pid)

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
            done = take(sorted(self._profiles_by_email.get(email, ())))
        if phone and not done:
            done = take(sorted(self._profiles_by_phone.get(phone, ())))
        prefix = (name_prefix or "").strip().lower()
        if prefix and not done:
            take(self._profile_names.starting_with(prefix))
        return [self._profiles[profile_id].doc() for profile_id in ids]

    # --- identities and merge log -----------------------------------------------------------

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
                    self._unindex_identity(key, old)
                self._identities[key] = stored
                self._identities_by_profile.setdefault(stored.profile_id, set()).add(key)
                for email in stored.emails:
                    self._identities_by_email.setdefault(email, set()).add(key)
                for phone in stored.phones:
                    self._identities_by_phone.setdefault(phone, set()).add(key)

    def _unindex_identity(self, key: _IdentityKey, identity: Identity) -> None:
        for index, values in (
            (self._identities_by_profile, (identity.profile_id,)),
            (self._identities_by_email, identity.emails),
            (self._identities_by_phone, identity.phones),
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
                self._identities[key]
                for key in sorted(self._identities_by_profile.get(profile_id, ()))
            ]
            for profile_id in profile_ids
        }

    async def find_identities(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = ()
    ) -> list[Identity]:
        keys: set[_IdentityKey] = set()
        for email in emails:
            keys.update(self._identities_by_email.get(email, ()))
        for phone in phones:
            keys.update(self._identities_by_phone.get(phone, ()))
        return [self._identities[key] for key in sorted(keys)]

    async def delete_identities(self, profile_id: str) -> int:
        async with self._lock:
            keys = list(self._identities_by_profile.get(profile_id, ()))
            for key in keys:
                self._unindex_identity(key, self._identities.pop(key))
            return len(keys)

    async def delete_identity(self, source: Source, source_id: str) -> Identity | None:
        async with self._lock:
            key = (Source(source), source_id)
            identity = self._identities.pop(key, None)
            if identity is not None:
                self._unindex_identity(key, identity)
            return identity

    async def append_merge_log(self, entry: MergeLogEntry) -> None:
        """A repeated entry id is ignored, so a retried merge does not log twice."""
        async with self._lock:
            if entry.id in self._merge:
                return
            stored = replace(
                entry,
                profile_ids=tuple(entry.profile_ids),
                at=to_utc(entry.at),
                before=_copy_json(entry.before),
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

    async def add_tombstones(self, digests: Sequence[str]) -> None:
        self._tombstones.update(digests)

    async def tombstoned(self, digests: Sequence[str]) -> set[str]:
        return {digest for digest in digests if digest in self._tombstones}

    # --- stock and pickup holds -------------------------------------------------------------

    async def apply_stock_level(self, level: StockLevel) -> bool:
        """Applies only over a strictly older level: a redelivered event with the same
        timestamp carries nothing new and reports ``False`` so no change event is published."""
        updated_at = to_utc(level.updated_at)
        async with self._lock:
            by_location = self._stock.setdefault(level.sku, {})
            current = by_location.get(level.location_id)
            if current is not None and current.updated_at >= updated_at:
                return False
            by_location[level.location_id] = StockLevel(
                sku=level.sku,
                location_id=level.location_id,
                quantities={**(current.quantities if current else {}), **level.quantities},
                updated_at=updated_at,
                held=current.held if current is not None else 0,
                source=level.source,
            )
            return True

    async def get_stock(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[StockLevel]:
        wanted = None if location_ids is None else set(location_ids)
        levels: list[StockLevel] = []
        for sku in sorted(set(skus)):
            by_location = self._stock.get(sku, {})
            for location_id in sorted(by_location):
                if wanted is None or location_id in wanted:
                    levels.append(_copy_stock(by_location[location_id]))
        return levels

    async def create_hold(self, hold: Hold) -> Hold | None:
        """A repeated hold id is treated like a repeated idempotency key: the caller retried."""
        _require_new_hold(hold)
        async with self._lock:
            if hold.idempotency_key is not None:
                existing_id = self._hold_keys.get(hold.idempotency_key)
                if existing_id is not None:
                    return self._holds[existing_id]
            if hold.id in self._holds:
                return self._holds[hold.id]
            by_location = self._stock.get(hold.sku, {})
            level = by_location.get(hold.location_id)
            if level is None or level.sellable < hold.quantity:
                return None
            by_location[hold.location_id] = replace(level, held=level.held + hold.quantity)
            stored = replace(
                hold, created_at=to_utc(hold.created_at), expires_at=to_utc(hold.expires_at)
            )
            self._holds[stored.id] = stored
            self._active_holds.add(stored.id)
            if stored.idempotency_key is not None:
                self._hold_keys[stored.idempotency_key] = stored.id
            return stored

    async def finish_hold(self, hold_id: str, status: HoldStatus) -> Hold | None:
        _require_final(status)
        async with self._lock:
            hold = self._holds.get(hold_id)
            if hold is None or hold.status is not HoldStatus.ACTIVE:
                return None
            finished = replace(hold, status=status)
            self._holds[hold_id] = finished
            self._active_holds.discard(hold_id)
            by_location = self._stock.get(hold.sku, {})
            level = by_location.get(hold.location_id)
            if level is not None:
                by_location[hold.location_id] = replace(level, held=level.held - hold.quantity)
            return finished

    async def get_hold(self, hold_id: str) -> Hold | None:
        return self._holds.get(hold_id)

    async def expired_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        """Active holds whose expiry is at or before ``now``, soonest-expired first. Active
        holds are few (they last minutes), so scanning that set is cheap."""
        if limit <= 0:
            return []
        cutoff = to_utc(now)
        due = [
            hold
            for hold_id in self._active_holds
            if (hold := self._holds[hold_id]).expires_at <= cutoff
        ]
        due.sort(key=lambda hold: (hold.expires_at, hold.id))
        return due[:limit]

    # --- loyalty ledger -----------------------------------------------------------------------

    async def apply_ledger_entry(self, entry: LedgerEntry) -> tuple[LedgerResult, LoyaltyAccount]:
        async with self._lock:
            account = self._accounts.get(entry.account_id)
            current = account or LoyaltyAccount(id=entry.account_id)
            if entry.key in self._ledger:
                return LedgerResult.DUPLICATE, current
            if entry.points < 0 and current.balance + entry.points < 0:
                return LedgerResult.INSUFFICIENT_BALANCE, current
            stored = replace(entry, at=to_utc(entry.at), meta=_copy_json(entry.meta))
            self._ledger[entry.key] = stored
            self._ledger_by_account.setdefault(entry.account_id, []).append(entry.key)
            moved = _moved_account(account, entry, utc_now())
            self._accounts[entry.account_id] = moved
            return LedgerResult.APPLIED, moved

    async def get_account(self, account_id: str) -> LoyaltyAccount | None:
        return self._accounts.get(account_id)

    async def ledger_entries(self, account_id: str, limit: int = 100) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        keys = self._ledger_by_account.get(account_id, [])
        # Newest first; among equal timestamps the later-appended first (as Mongo's _id does).
        entries = sorted(
            (self._ledger[key] for key in reversed(keys)),
            key=lambda entry: entry.at,
            reverse=True,
        )
        return [_copy_entry(entry) for entry in entries[:limit]]

    async def anonymise_account(self, account_id: str, anonymous_id: str) -> int:
        """Folds the account into ``anonymous_id`` (adding to it if it already exists, so one
        shared anonymous bucket works too) and returns how many entries were re-keyed."""
        if account_id == anonymous_id:
            raise ValueError("anonymous id must differ from the account id")
        async with self._lock:
            keys = self._ledger_by_account.pop(account_id, [])
            for key in keys:
                self._ledger[key] = replace(self._ledger[key], account_id=anonymous_id, meta={})
            if keys:
                self._ledger_by_account.setdefault(anonymous_id, []).extend(keys)
            old = self._accounts.pop(account_id, None)
            if old is not None:
                into = self._accounts.get(anonymous_id) or LoyaltyAccount(id=anonymous_id)
                self._accounts[anonymous_id] = LoyaltyAccount(
                    id=anonymous_id,
                    balance=into.balance + old.balance,
                    lifetime_earned=into.lifetime_earned + old.lifetime_earned,
                    lifetime_redeemed=into.lifetime_redeemed + old.lifetime_redeemed,
                    updated_at=utc_now(),
                )
            return len(keys)

    # --- webhooks and sync --------------------------------------------------------------------

    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
        """Receipts older than the retention are forgotten, like the MongoDB TTL index does,
        so a long-running demo does not grow without bound."""
        at = to_utc(received_at)
        key = (Source(source), event_id)
        self._forget_receipts_before(at - self._receipt_retention)
        seen = self._receipts.get(key)
        if seen is not None and seen > at - self._receipt_retention:
            return False
        self._receipts[key] = at
        self._receipt_order.append((at, key))
        return True

    def _forget_receipts_before(self, cutoff: datetime) -> None:
        order = self._receipt_order
        while order and order[0][0] <= cutoff:
            at, key = order.popleft()
            if self._receipts.get(key) == at:
                del self._receipts[key]

    async def release_receipt(self, source: Source, event_id: str) -> None:
        self._receipts.pop((Source(source), event_id), None)

    async def get_checkpoint(self, name: str) -> Mapping[str, Any] | None:
        value = self._checkpoints.get(name)
        return None if value is None else _copy_json(value)

    async def set_checkpoint(self, name: str, value: Mapping[str, Any]) -> None:
        self._checkpoints[name] = _copy_json(dict(value))

    # --- webhook claims and dead letters ------------------------------------------------------

    async def claim_receipt(
        self, source: Source, key: str, now: datetime, *, lease: timedelta
    ) -> ReceiptClaim:
        """A claim is a receipt plus a pending mark holding the receipt's own timestamp, so a
        mark left behind by a receipt that was since released and recorded again is stale
        (and ignored) rather than mistaken for an attempt in flight."""
        at = to_utc(now)
        ident = (Source(source), key)
        self._forget_receipts_before(at - self._receipt_retention)
        seen = self._receipts.get(ident)
        if seen is not None and seen > at - self._receipt_retention:
            pending = self._pending_claims.get(ident)
            if pending != seen:
                return ReceiptClaim.DUPLICATE
            if pending > at - lease:
                return ReceiptClaim.IN_FLIGHT
        self._receipts[ident] = at
        self._receipt_order.append((at, ident))
        self._pending_claims[ident] = at
        return ReceiptClaim.CLAIMED

    async def complete_receipt(self, source: Source, key: str) -> None:
        self._pending_claims.pop((Source(source), key), None)

    def _forget_dead_letters(self) -> None:
        cutoff = utc_now() - self._dead_letter_retention
        for key in [k for k, v in self._dead_letters.items() if v.received_at <= cutoff]:
            del self._dead_letters[key]

    async def put_dead_letter(self, letter: DeadLetter) -> bool:
        self._forget_dead_letters()
        key = (Source(letter.source), letter.body_digest)
        kept = self._dead_letters.get(key)
        if kept is not None:
            self._dead_letters[key] = replace(
                kept, reason=letter.reason, deliveries=kept.deliveries + 1
            )
            return False
        self._dead_letters[key] = replace(
            letter,
            source=Source(letter.source),
            received_at=to_utc(letter.received_at),
            headers=dict(letter.headers),
            deliveries=1,
        )
        return True

    async def dead_letters(
        self, source: Source | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        self._forget_dead_letters()
        kept = [
            letter
            for letter in self._dead_letters.values()
            if source is None or letter.source is Source(source)
        ]
        kept.sort(key=lambda letter: letter.received_at, reverse=True)
        return [replace(letter, headers=dict(letter.headers)) for letter in kept[:limit]]

    async def dead_letter(self, source: Source, body_digest: str) -> DeadLetter | None:
        self._forget_dead_letters()
        letter = self._dead_letters.get((Source(source), body_digest))
        return None if letter is None else replace(letter, headers=dict(letter.headers))

    async def count_dead_letters(self) -> int:
        self._forget_dead_letters()
        return len(self._dead_letters)

    async def delete_dead_letter(self, source: Source, body_digest: str) -> bool:
        return self._dead_letters.pop((Source(source), body_digest), None) is not None

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
