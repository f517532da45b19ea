"""The webhooks port: receipts that make each vendor delivery count once (claimed with a
lease, then completed), and the dead letters kept of deliveries that can never be applied."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from connectors.records import Source


class ReceiptClaim(enum.Enum):
    """What :meth:`WebhookStore.claim_receipt` found for a delivery's key."""

    #: Nobody had it (or a crashed attempt's lease ran out): the caller applies the event.
    CLAIMED = "claimed"
    #: Applied before: acknowledge, do nothing.
    DUPLICATE = "duplicate"
    #: Another attempt holds it and has not finished: the vendor should come back later.
    IN_FLIGHT = "in_flight"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A signed webhook delivery that can never be applied as it is (its body does not map,
    or applying it fails for a reason that retrying will not change).

    Kept so an operator can see why and replay it once the cause is fixed; the raw ``body``
    and the vendor ``headers`` that came with it are enough to run it through the route
    again. The body holds personal data, so the store forgets letters after a retention
    (``OMNIGATE_WEBHOOK_DEAD_LETTER_TTL_DAYS``). One letter per (source, body digest): a
    redelivery of the same body only bumps ``deliveries``.
    """

    source: Source
    body_digest: str
    reason: str
    received_at: datetime
    body: bytes
    topic: str | None = None
    event_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    deliveries: int = 1


class WebhookStore(Protocol):
    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
        """True the first time a vendor event id is seen; False for a replay."""
        ...

    async def release_receipt(self, source: Source, event_id: str) -> None:
        """Forget a receipt whose event could not be applied, so the vendor's retry counts."""

    async def claim_receipt(
        self, source: Source, key: str, now: datetime, *, lease: timedelta
    ) -> ReceiptClaim:
        """Take the receipt ``key`` (an event id, or ``body:<sha256>`` for a delivery's body)
        before applying it, atomically: ``CLAIMED`` for the first caller; ``DUPLICATE`` once
        :meth:`complete_receipt` ran (or for a receipt recorded by :meth:`record_receipt`);
        ``IN_FLIGHT`` while another claim younger than ``lease`` is unfinished. A
        claim older than the lease belonged to an attempt that died (or whose release failed
        in an outage) and may be taken over, so a vendor's retry is never dropped for good.
        """
        ...

    async def complete_receipt(self, source: Source, key: str) -> None:
        """Mark a claimed receipt applied: from now on the key is a duplicate."""

    async def put_dead_letter(self, letter: DeadLetter) -> bool:
        """Keep ``letter``; True if it is new, False if a letter for the same (source, body
        digest) is kept already (its ``deliveries`` count goes up, its reason is the latest)."""
        ...

    async def dead_letters(
        self, source: Source | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        """Kept letters, newest first."""
        ...

    async def dead_letter(self, source: Source, body_digest: str) -> DeadLetter | None: ...

    async def count_dead_letters(self) -> int:
        """How many letters are kept (shown by ``health``)."""
        ...

    async def delete_dead_letter(self, source: Source, body_digest: str) -> bool:
        """Forget a letter (it was replayed); False if there was none."""
        ...
