"""What a vendor's webhook endpoint must provide to the gateway's ``/webhooks/<vendor>``.

Verification works on the raw bytes, before any parsing, so a forged body is never even
decoded. Parsing turns a verified delivery into domain events; each carries the vendor's
event id, which the gateway uses to drop replays.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Protocol

from connectors.records import Source, WebhookEvent


class WebhookParseError(ValueError):
    """A correctly signed delivery whose body cannot be understood."""


class WebhookEndpoint(Protocol):
    source: Source

    def verify(self, *, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """True only for a delivery signed with our secret (constant-time comparison)."""
        ...

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Domain events in the delivery; raises :class:`WebhookParseError`."""
        ...


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def same_signature(expected: bytes, presented: bytes) -> bool:
    """Constant-time equality, so a forger learns nothing from response times."""
    return hmac.compare_digest(expected, presented)
