"""Profiles on MongoDB (collection ``profiles``): one conditional write per case, versions
for optimistic concurrency, and indexes on every lookup key the counter uses."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from gateway.store.mongo.base import Doc, MongoBackend, mapped, upsert_all
from gateway.store.timeutil import to_utc_or_none
from resolvers.model import ProfileDoc
from resolvers.store import VersionConflict


def _profile_from(raw: Doc) -> ProfileDoc:
    return ProfileDoc(
        id=raw["_id"],
        body=raw.get("body") or {},
        emails=list(raw.get("emails") or []),
        phones=list(raw.get("phones") or []),
        names=list(raw.get("names") or []),
        refreshed_at=raw.get("refreshed_at"),
        version=int(raw.get("version", 0)),
        retired=bool(raw.get("retired", False)),
    )


class MongoProfiles:
    """The :class:`~resolvers.store.ProfileStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._profiles = backend.collection("profiles")

    async def prepare(self) -> None:
        await self._profiles.create_indexes(
            [
                IndexModel([("emails", ASCENDING)], name="emails"),
                IndexModel([("phones", ASCENDING)], name="phones"),
                IndexModel([("names", ASCENDING)], name="names"),
            ]
        )

    @mapped
    async def get_profiles(
        self, ids: Sequence[str], *, include_retired: bool = False
    ) -> dict[str, ProfileDoc]:
        if not ids:
            return {}
        query: Doc = {"_id": {"$in": list(dict.fromkeys(ids))}}
        if not include_retired:
            query["retired"] = {"$ne": True}
        found = {raw["_id"]: _profile_from(raw) async for raw in self._profiles.find(query)}
        return {profile_id: found[profile_id] for profile_id in ids if profile_id in found}

    @mapped
    async def put_profile(
        self, doc: ProfileDoc, *, expected_version: int | None = None
    ) -> ProfileDoc:
        """One conditional write per case: an insert guarded by the ``_id`` index for
        "must not exist", a version-matched update otherwise. The body is not read back."""
        fields: Doc = {
            "body": doc.body,
            "emails": list(doc.emails),
            "phones": list(doc.phones),
            "names": list(doc.names),
            "refreshed_at": to_utc_or_none(doc.refreshed_at),
        }

        def stored(version: int) -> ProfileDoc:
            return ProfileDoc(
                id=doc.id,
                body=dict(doc.body),
                emails=list(doc.emails),
                phones=list(doc.phones),
                names=list(doc.names),
                refreshed_at=fields["refreshed_at"],
                version=version,
            )

        if expected_version == 0:
            try:
                await self._profiles.insert_one({"_id": doc.id, **fields, "version": 1})
            except DuplicateKeyError:
                raise VersionConflict(f"profile {doc.id} already exists") from None
            return stored(1)
        query: Doc = {"_id": doc.id}
        if expected_version is not None:
            query["version"] = expected_version
        update = {"$set": fields, "$unset": {"retired": ""}, "$inc": {"version": 1}}
        raw: Doc | None = None
        for attempt in range(2):
            try:
                raw = await self._profiles.find_one_and_update(
                    query,
                    update,
                    projection={"version": True},
                    upsert=expected_version is None,
                    return_document=ReturnDocument.AFTER,
                )
                break
            except DuplicateKeyError:
                if attempt:  # two racing first inserts: the retry updates the winner's doc
                    raise
        if raw is None:
            raise VersionConflict(
                f"profile {doc.id}: version {expected_version} is no longer current"
            )
        return stored(int(raw["version"]))

    @mapped
    async def delete_profile(self, profile_id: str) -> bool:
        """One upsert turns the document into a stub: personal data and lookup keys are
        unset, the version moves on (a stale rebuild's conditional write then matches
        nothing, and its insert hits the ``_id``)."""
        before = await self._profiles.find_one_and_update(
            {"_id": profile_id},
            {
                "$set": {"retired": True, "body": {}, "refreshed_at": None},
                "$unset": {"emails": "", "phones": "", "names": ""},
                "$inc": {"version": 1},
            },
            projection={"retired": True},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        return before is not None and not before.get("retired", False)

    @mapped
    async def invalidate_profiles(self, profile_ids: Sequence[str]) -> None:
        unique = list(dict.fromkeys(profile_ids))
        if not unique:
            return
        requests = [
            UpdateOne(
                {"_id": pid},
                {"$inc": {"version": 1}, "$set": {"refreshed_at": None}},
                upsert=True,
            )
            for pid in unique
        ]
        await upsert_all(self._profiles, requests)

    @mapped
    async def find_profiles(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        name_prefix: str | None = None,
        limit: int = 10,
    ) -> list[ProfileDoc]:
        """The union of the criteria given. The name prefix becomes an anchored,
        case-sensitive regex, which MongoDB turns into a range scan of the ``names`` index; an
        empty prefix (everyone) or no criterion finds nothing. ``limit <= 0`` finds nothing
        (MongoDB would read ``limit(0)`` as "no limit")."""
        clauses: list[Doc] = []
        if email:
            clauses.append({"emails": email})
        if phone:
            clauses.append({"phones": phone})
        prefix = (name_prefix or "").strip().lower()
        if prefix:
            clauses.append({"names": {"$regex": f"^{re.escape(prefix)}"}})
        if not clauses or limit <= 0:
            return []
        query = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        return [_profile_from(raw) async for raw in self._profiles.find(query, limit=limit)]
