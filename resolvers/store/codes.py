"""The codes port: which customer a member code or referral code belongs to.

Codes are derived from the customer id (:mod:`resolvers.loyalty.codes`), so nothing needs
storing to *show* one; a hash cannot be read backwards, though, so finding the customer
behind a scanned or typed code needs this index. It maps a code to the id it was derived
from, never to whatever profile that person lives in now: a merge moves identities, not
codes, and the resolver follows the merge log from that id
(:func:`resolvers.loyalty.code_index.current_profile`), so an unmerge needs no write here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class CodePurpose(enum.StrEnum):
    #: Shown at the till (QR code, barcode, wallet pass).
    MEMBER = "member"
    #: Given to friends; used once by each new customer.
    REFERRAL = "referral"


@dataclass(frozen=True, slots=True)
class CodeOwner:
    code: str
    customer_id: str
    purpose: CodePurpose


class CodeStore(Protocol):
    async def register_codes(self, owners: Sequence[CodeOwner]) -> list[CodeOwner]:
        """Index each code for its customer, idempotently (the code is unique). A code held
        by another customer already stays theirs: the hash collided, and a card must never
        start finding someone else. Returns the owners that were refused that way (as
        stored), so the caller can report them."""
        ...

    async def code_owner(self, code: str) -> CodeOwner | None:
        """Who the code (as written: :func:`resolvers.loyalty.codes.normalise`) belongs to."""
        ...

    async def forget_codes(self, customer_id: str) -> int:
        """Drop a customer's codes (erasure). Returns how many went."""
        ...
