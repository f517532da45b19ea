"""The webhook delivery whose events are being applied, for handlers that must say what asked
them to act.

A destructive handler (an erasure) logs the identity of the delivery behind it: vendor,
topic, event id and the digest of the signed body. The gateway knows these; the events it
hands over do not carry them, and handlers keep their ``(services, event)`` signature. So the
dispatcher sets the delivery in a context variable while one event's handlers run (as
:mod:`resolvers.partial` scopes partial errors to a request).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivery:
    vendor: str
    #: ``X-Shopify-Topic`` or Square's ``type``.
    topic: str | None
    event_id: str | None
    #: Hex SHA-256 of the raw body (what the vendor signed).
    body_digest: str | None


_current: ContextVar[Delivery | None] = ContextVar("omnigate_webhook_delivery", default=None)


def current_delivery() -> Delivery | None:
    """The delivery being applied, or ``None`` outside a webhook (a sync, a test)."""
    return _current.get()


@contextmanager
def delivering(delivery: Delivery | None) -> Iterator[None]:
    token = _current.set(delivery)
    try:
        yield
    finally:
        _current.reset(token)
