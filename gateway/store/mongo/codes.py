"""Member and referral codes on MongoDB (collection ``member_codes``): the code is the
``_id``, so the unique ``_id`` index is what keeps one code to one customer."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from gateway.store.mongo.base import Doc, MongoBackend, mapped
from resolvers.store.codes import CodeOwner, CodePurpose


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
        """One conditional upsert per code: the filter matches only the code held by this
        customer; held by another, the upsert tries to insert the same ``_id`` and the
        unique index refuses it. Two registrations of the same code racing can both miss
        and one insert lose too, so a refusal is read back before it counts as a clash."""
        refused: list[CodeOwner] = []
        for owner in owners:
            try:
                await self._codes.update_one(
                    {"_id": owner.code, "customer_id": owner.customer_id},
                    {"$setOnInsert": {"purpose": owner.purpose.value}},
                    upsert=True,
                )
            except DuplicateKeyError:
                held = await self._codes.find_one({"_id": owner.code})
                if held is not None and held["customer_id"] != owner.customer_id:
                    refused.append(_owner_from(held))
        return refused

    @mapped
    async def code_owner(self, code: str) -> CodeOwner | None:
        raw = await self._codes.find_one({"_id": code})
        return None if raw is None else _owner_from(raw)

    @mapped
    async def forget_codes(self, customer_id: str) -> int:
        result = await self._codes.delete_many({"customer_id": customer_id})
        return result.deleted_count
