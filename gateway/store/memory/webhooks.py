"""Webhook receipts, claims and dead letters in memory. Receipts and dead letters are
forgotten after their retention, as MongoDB's TTL indexes do, so a long-running demo does
not grow without bound."""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta

from connectors.records import Source
from gateway.store.retention import DEFAULT_DEAD_LETTER_RETENTION, DEFAULT_RECEIPT_RETENTION
from gateway.store.timeutil import to_utc, utc_now
from resolvers.store import DeadLetter, ReceiptClaim

_Key = tuple[Source, str]


class MemoryWebhooks:
    """The :class:`~resolvers.store.WebhookStore` of the memory store. No method awaits
    between its check and its write, so each is atomic on the event loop."""

    def __init__(
        self,
        *,
        receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
        dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
    ) -> None:
        self._receipt_retention = receipt_retention
        self._dead_letter_retention = dead_letter_retention
        self._receipts: dict[_Key, datetime] = {}
        self._receipt_order: deque[tuple[datetime, _Key]] = deque()
        #: receipt key -> the claim's time, while unfinished
        self._pending_claims: dict[_Key, datetime] = {}
        self._dead_letters: dict[_Key, DeadLetter] = {}

    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
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

    # --- dead letters ---------------------------------------------------------------------

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
