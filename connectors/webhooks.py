"""What a vendor's webhook endpoint must provide to the gateway's ``/webhooks/<vendor>``.

Verification works on the raw bytes, before any parsing, so a forged body is never even
decoded. Parsing turns a verified delivery into domain events; each carries the vendor's
event id, which the gateway uses to drop replays. Parsing checks each payload against the
shape of its topic (a body relabelled under another topic is refused), and raises
:class:`WebhookParseError` for a body it cannot map: the gateway keeps such a body as a dead
letter rather than asking the vendor to send it again.

What a signature covers differs by vendor (Shopify: the body only, so topic and event id
are unsigned headers; Square: URL and body, type and event id inside it). The gateway
therefore also dedupes on :func:`body_digest`, which only the signed bytes determine.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from connectors.records import Source, WebhookEvent


class WebhookParseError(ValueError):
    """A correctly signed delivery whose body cannot be understood."""


@dataclass(frozen=True, slots=True)
class DeliveryId:
    """What a delivery says it is, read without parsing the body's contents (either may be
    ``None`` for a body too broken to tell): for logs and dead letters."""

    topic: str | None
    event_id: str | None


class WebhookEndpoint(Protocol):
    source: Source
    #: Request headers (lower case) that belong to a delivery, signature included: kept with
    #: a dead letter so it can be replayed exactly as it came.
    delivery_headers: frozenset[str]

    def verify(self, *, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """True only for a delivery signed with our secret (constant-time comparison)."""
        ...

    def identify(self, *, headers: Mapping[str, str], body: bytes) -> DeliveryId:
        """The delivery's topic (or type) and event id; never raises."""
        ...

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Domain events in the delivery; raises :class:`WebhookParseError`."""
        ...


def body_digest(body: bytes) -> str:
    """Hex SHA-256 of the raw body: the same bytes are the same delivery, whatever unsigned
    headers come with them."""
    return hashlib.sha256(body).hexdigest()


def describe_errors(exc: ValidationError) -> str:
    """A payload's validation errors as ``field: message`` parts, without the offending values
    (they may be personal data, and the text reaches logs, dead letters and the vendor)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: "
        + error["msg"].removeprefix("Value error, ")
        for error in errors[:5]
    ]
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more")
    return "; ".join(parts)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def same_signature(expected: bytes, presented: bytes) -> bool:
    """Constant-time equality, so a forger learns nothing from response times."""
    return hmac.compare_digest(expected, presented)
