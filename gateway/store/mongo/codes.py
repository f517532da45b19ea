"""Member and referral codes on MongoDB (collection ``member_codes``): the code is the
``_id``, so the unique ``_id`` index is what keeps one code to one customer."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.errors import BulkWriteError

from gateway.store.mongo.base import Doc, MongoBackend, mapped
from resolvers.store.codes import CodeOwner, CodePurpose

_DUPLICATE_KEY = 11000


def _owner_from(raw: Doc) -> CodeOwner:
    return CodeOwner(
        code=raw["_id"], customer_id=raw["customer_id"], purpose=CodePurpose(raw["purpose"])
    )


class MongoCodes:
    """The :class:`~resolvers.store.CodeStore` on MongoDB."""

    def __init__(self, backend: MongoBackend) -> None:
        self._backend = backend
        self._codes = backend.collection("member_codes")

    async def prepare(self) -> None:
        await self._backend.ensure_collections(self._codes.name)
        await self._codes.create_indexes(
            [IndexModel([("customer_id", ASCENDING)], name="customer")]
        )

    @mapped
    async def register_codes(self, owners: Sequence[CodeOwner]) -> list[CodeOwner]:
        """Unordered conditional upserts in one round trip: the filter matches only the code
        held by this customer; held by another, the upsert tries to insert the same ``_id``
        and the unique index refuses it. Two registrations of one code racing can both miss
        and one insert lose too, so each refusal is read back before it counts as a clash."""
        if not owners:
            return []
        requests = [
            UpdateOne(
                {"_id": o.code, "customer_id": o.customer_id},
                {"$setOnInsert": {"purpose": o.purpose.value}},
                upsert=True,
            )
            for o in owners
        ]
        try:
            await self._codes.bulk_write(requests, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            missed = [owners[e["index"]] for e in errors]
            held = {
                raw["_id"]: _owner_from(raw)
                async for raw in self._codes.find({"_id": {"$in": [o.code for o in missed]}})
            }
            return [
                held[o.code]
                for o in missed
                if o.code in held and held[o.code].customer_id != o.customer_id
            ]
        return []

    @mapped
    async def code_owner(self, code: str) -> CodeOwner | None:
        raw = await self._codes.find_one({"_id": code})
        return None if raw is None else _owner_from(raw)

    @mapped
    async def forget_codes(self, customer_id: str) -> int:
        result = await self._codes.delete_many({"customer_id": customer_id})
        return result.deleted_count
