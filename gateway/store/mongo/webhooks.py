"""Webhook receipts, claims and dead letters on MongoDB (collections ``webhook_receipts`` and
``dead_letters``). The unique ``(source, event_id)`` index decides first-seen; the unique
``(source, body_digest)`` index keeps one letter per body; TTL indexes forget both."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from connectors.records import Source
from gateway.store.mongo.base import Doc, MongoBackend, mapped
from gateway.store.retention import DEFAULT_DEAD_LETTER_RETENTION, DEFAULT_RECEIPT_RETENTION
from gateway.store.timeutil import to_utc, utc_now
from resolvers.store import DeadLetter, ReceiptClaim


def _dead_letter_from(raw: Doc) -> DeadLetter:
    return DeadLetter(
        source=Source(raw["source"]),
        body_digest=raw["body_digest"],
        reason=raw.get("reason") or "",
        received_at=to_utc(raw["received_at"]),
        body=bytes(raw.get("body") or b""),
        topic=raw.get("topic"),
        event_id=raw.get("event_id"),
        headers={str(name): str(value) for name, value in raw.get("headers") or ()},
        deliveries=int(raw.get("deliveries") or 1),
    )


class MongoWebhooks:
    """The :class:`~resolvers.store.WebhookStore` on MongoDB."""

    def __init__(
        self,
        backend: MongoBackend,
        *,
        receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
        dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
    ) -> None:
        self._backend = backend
        self._receipt_retention = receipt_retention
        self._dead_letter_retention = dead_letter_retention
        self._receipts = backend.collection("webhook_receipts")
        self._dead_letters = backend.collection("dead_letters")

    async def prepare(self) -> None:
        await self._receipts.create_indexes(
            [
                IndexModel(
                    [("source", ASCENDING), ("event_id", ASCENDING)],
                    unique=True,
                    name="source_event_id",
                )
            ]
        )
        await self._backend.ensure_ttl(self._receipts, "received_at", self._receipt_retention)
        await self._dead_letters.create_indexes(
            [
                IndexModel(
                    [("source", ASCENDING), ("body_digest", ASCENDING)],
                    unique=True,
                    name="source_body_digest",
                ),
                IndexModel([("source", ASCENDING), ("received_at", DESCENDING)], name="source_at"),
            ]
        )
        await self._backend.ensure_ttl(
            self._dead_letters, "received_at", self._dead_letter_retention
        )

    @mapped
    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
        try:
            await self._receipts.insert_one(
                {
                    "source": Source(source).value,
                    "event_id": event_id,
                    "received_at": to_utc(received_at),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    @mapped
    async def release_receipt(self, source: Source, event_id: str) -> None:
        await self._receipts.delete_one({"source": Source(source).value, "event_id": event_id})

    @mapped
    async def claim_receipt(
        self, source: Source, key: str, now: datetime, *, lease: timedelta
    ) -> ReceiptClaim:
        """One conditional upsert: it matches only a pending claim older than the lease
        (taking it over); otherwise it inserts, and the unique ``(source, event_id)`` index
        refuses the insert when the receipt exists. The read after a refusal only tells a
        finished receipt from one in flight; it decides nothing."""
        at = to_utc(now)
        ident = {"source": Source(source).value, "event_id": key}
        try:
            await self._receipts.update_one(
                {**ident, "pending": True, "claimed_at": {"$lte": at - lease}},
                {"$set": {"received_at": at, "claimed_at": at}},
                upsert=True,
            )
        except DuplicateKeyError:
            found = await self._receipts.find_one(ident, {"pending": 1})
            if found is not None and not found.get("pending"):
                return ReceiptClaim.DUPLICATE
            # Pending, or released a moment ago: either way the vendor should come back.
            return ReceiptClaim.IN_FLIGHT
        return ReceiptClaim.CLAIMED

    @mapped
    async def complete_receipt(self, source: Source, key: str) -> None:
        await self._receipts.update_one(
            {"source": Source(source).value, "event_id": key},
            {"$set": {"pending": False}, "$unset": {"claimed_at": ""}},
        )

    # --- dead letters ---------------------------------------------------------------------

    @mapped
    async def put_dead_letter(self, letter: DeadLetter) -> bool:
        """An upsert on the unique ``(source, body_digest)`` index; two concurrent first
        deliveries of one body store one letter (the loser's insert becomes an update)."""
        ident = {"source": Source(letter.source).value, "body_digest": letter.body_digest}
        update: Doc = {
            "$setOnInsert": {
                "received_at": to_utc(letter.received_at),
                "body": letter.body,
                "topic": letter.topic,
                "event_id": letter.event_id,
                "headers": [[name, value] for name, value in letter.headers.items()],
            },
            "$set": {"reason": letter.reason, "last_received_at": utc_now()},
            "$inc": {"deliveries": 1},
        }
        try:
            result = await self._dead_letters.update_one(ident, update, upsert=True)
        except DuplicateKeyError:
            await self._dead_letters.update_one(ident, update)
            return False
        return result.upserted_id is not None

    @mapped
    async def dead_letters(
        self, source: Source | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        query: Doc = {} if source is None else {"source": Source(source).value}
        cursor = self._dead_letters.find(query).sort("received_at", DESCENDING).limit(limit)
        return [_dead_letter_from(raw) async for raw in cursor]

    @mapped
    async def dead_letter(self, source: Source, body_digest: str) -> DeadLetter | None:
        raw = await self._dead_letters.find_one(
            {"source": Source(source).value, "body_digest": body_digest}
        )
        return None if raw is None else _dead_letter_from(raw)

    @mapped
    async def count_dead_letters(self) -> int:
        return await self._dead_letters.count_documents({})

    @mapped
    async def delete_dead_letter(self, source: Source, body_digest: str) -> bool:
        result = await self._dead_letters.delete_one(
            {"source": Source(source).value, "body_digest": body_digest}
        )
        return result.deleted_count > 0
