"""Identities, the merge log and tombstones on MongoDB (collections ``identities``,
``merge_log``, ``tombstones``).

An identity's ``_id`` is derived from (source, source_id), so an upsert on it is retried by
the server itself when two writers race to create the same identity; a dated identity only
lands over facts that are not newer, in the same conditional write.
"""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.errors import DuplicateKeyError

from connectors.records import Source
from gateway.store.mongo.base import Doc, MongoBackend, mapped, upsert_all
from gateway.store.timeutil import to_utc, to_utc_or_none, utc_now
from resolvers.model import Identity, MergeLogEntry


def _identity_id(source: Source | str, source_id: str) -> str:
    """Deterministic ``_id``: an upsert on ``_id`` is retried by the server itself when two
    writers race to create the same identity. Source names contain no ``:``, so it is
    unambiguous; the unique ``(source, source_id)`` index states the rule explicitly."""
    return f"{Source(source).value}:{source_id}"


def _identity_from(raw: Doc) -> Identity:
    return Identity(
        source=Source(raw["source"]),
        source_id=raw["source_id"],
        profile_id=raw["profile_id"],
        emails=tuple(raw.get("emails") or ()),
        phones=tuple(raw.get("phones") or ()),
        name=raw.get("name"),
        linked_at=raw.get("linked_at"),
        reason=raw.get("reason"),
        source_updated_at=raw.get("source_updated_at"),
    )


def _merge_from(raw: Doc) -> MergeLogEntry:
    return MergeLogEntry(
        id=raw["_id"],
        action=raw["action"],
        profile_ids=tuple(raw.get("profile_ids") or ()),
        reason=raw.get("reason", ""),
        at=raw["at"],
        actor=raw.get("actor"),
        before=raw.get("before") or {},
        undoes=raw.get("undoes"),
    )


def _link_request(identity: Identity) -> UpdateOne:
    """The upsert of one identity; a dated one only lands over facts that are not newer."""
    updated_at = to_utc_or_none(identity.source_updated_at)
    query: Doc = {"_id": _identity_id(identity.source, identity.source_id)}
    if updated_at is not None:
        query["$or"] = [
            {"source_updated_at": None},
            {"source_updated_at": {"$lte": updated_at}},
        ]
    fields: Doc = {
        "source": Source(identity.source).value,
        "source_id": identity.source_id,
        "profile_id": identity.profile_id,
        "emails": list(identity.emails),
        "phones": list(identity.phones),
        "name": identity.name,
        "linked_at": to_utc_or_none(identity.linked_at),
        "reason": identity.reason,
    }
    if updated_at is not None:
        fields["source_updated_at"] = updated_at
    return UpdateOne(query, {"$set": fields}, upsert=True)


def _by_key(identity: Identity) -> tuple[Source, str]:
    return (identity.source, identity.source_id)


class MongoIdentities:
    """The :class:`~resolvers.store.IdentityStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._identities = backend.collection("identities")
        self._merge_log = backend.collection("merge_log")
        self._tombstones = backend.collection("tombstones")

    async def prepare(self) -> None:
        await self._identities.create_indexes(
            [
                IndexModel(
                    [("source", ASCENDING), ("source_id", ASCENDING)],
                    unique=True,
                    name="source_source_id",
                ),
                IndexModel([("profile_id", ASCENDING)], name="profile_id"),
                IndexModel([("emails", ASCENDING)], name="emails"),
                IndexModel([("phones", ASCENDING)], name="phones"),
            ]
        )
        await self._merge_log.create_indexes(
            [
                IndexModel(
                    [("profile_ids", ASCENDING), ("at", ASCENDING), ("seq", ASCENDING)],
                    name="profile_ids_at",
                )
            ]
        )

    @mapped
    async def link_identities(self, identities: Sequence[Identity]) -> None:
        if not identities:
            return
        # A dated identity whose stored facts are newer: its filter matches nothing and the
        # upsert's insert hits the existing ``_id``. That refusal is the point.
        requests = [_link_request(identity) for identity in identities]
        await upsert_all(self._identities, requests, refusals_expected=True)

    @mapped
    async def get_identities(
        self, keys: Sequence[tuple[Source, str]]
    ) -> dict[tuple[Source, str], Identity]:
        by_id = {_identity_id(source, source_id): (source, source_id) for source, source_id in keys}
        if not by_id:
            return {}
        return {
            by_id[raw["_id"]]: _identity_from(raw)
            async for raw in self._identities.find({"_id": {"$in": list(by_id)}})
        }

    @mapped
    async def identities_of(self, profile_ids: Sequence[str]) -> dict[str, list[Identity]]:
        """Every requested id is a key (an empty list when it has no identities)."""
        result: dict[str, list[Identity]] = {profile_id: [] for profile_id in profile_ids}
        if not result:
            return result
        async for raw in self._identities.find({"profile_id": {"$in": list(result)}}):
            result[raw["profile_id"]].append(_identity_from(raw))
        for found in result.values():
            found.sort(key=_by_key)
        return result

    @mapped
    async def find_identities(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = ()
    ) -> list[Identity]:
        clauses: list[Doc] = []
        if emails:
            clauses.append({"emails": {"$in": list(emails)}})
        if phones:
            clauses.append({"phones": {"$in": list(phones)}})
        if not clauses:
            return []
        query = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        found = [_identity_from(raw) async for raw in self._identities.find(query)]
        found.sort(key=_by_key)
        return found

    @mapped
    async def delete_identities(self, profile_id: str) -> int:
        result = await self._identities.delete_many({"profile_id": profile_id})
        return result.deleted_count

    @mapped
    async def delete_identity(self, source: Source, source_id: str) -> Identity | None:
        raw = await self._identities.find_one_and_delete({"_id": _identity_id(source, source_id)})
        return None if raw is None else _identity_from(raw)

    # --- merge log ------------------------------------------------------------------------

    @mapped
    async def append_merge_log(self, entry: MergeLogEntry) -> None:
        """A repeated entry id is ignored, so a retried merge does not log twice. ``seq`` (an
        ObjectId, increasing per process) keeps append order among equal timestamps."""
        try:
            await self._merge_log.insert_one(
                {
                    "_id": entry.id,
                    "action": entry.action,
                    "profile_ids": list(entry.profile_ids),
                    "reason": entry.reason,
                    "at": to_utc(entry.at),
                    "actor": entry.actor,
                    "before": dict(entry.before),
                    "undoes": entry.undoes,
                    "seq": ObjectId(),
                }
            )
        except DuplicateKeyError:
            return

    @mapped
    async def merge_log(self, profile_id: str) -> list[MergeLogEntry]:
        cursor = self._merge_log.find({"profile_ids": profile_id}).sort(
            [("at", ASCENDING), ("seq", ASCENDING)]
        )
        return [_merge_from(raw) async for raw in cursor]

    @mapped
    async def delete_merge_log(self, profile_id: str) -> int:
        result = await self._merge_log.delete_many({"profile_ids": profile_id})
        return result.deleted_count

    # --- tombstones -----------------------------------------------------------------------

    @mapped
    async def add_tombstones(self, digests: Sequence[str]) -> None:
        """Digests are the ``_id``: adding one twice is a no-op upsert, not an error."""
        unique = list(dict.fromkeys(digests))
        if unique:
            await self._tombstones.bulk_write(
                [
                    UpdateOne({"_id": d}, {"$setOnInsert": {"at": utc_now()}}, upsert=True)
                    for d in unique
                ],
                ordered=False,
            )

    @mapped
    async def tombstoned(self, digests: Sequence[str]) -> set[str]:
        unique = list(dict.fromkeys(digests))
        if not unique:
            return set()
        return {
            raw["_id"]
            async for raw in self._tombstones.find({"_id": {"$in": unique}}, {"_id": True})
        }
