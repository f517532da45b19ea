"""Telling the rest of the gateway that a loyalty account moved.

Whoever writes a ledger entry calls :func:`account_changed` once the store applied it: the
email-tool property sync (:mod:`gateway.loyalty_sync`) listens on :data:`TOPIC` and sends
the account's new figures in the background. Publishing never waits (the bus hands the id to
each subscriber's queue and returns), so a mutation never waits for the email tool, nor fails
because it is slow or down.

The event is only the account id: a listener re-reads the account when it acts, so events
that arrive late or twice still send the newest figures.
"""

from __future__ import annotations

from typing import Final, Protocol

from resolvers.events import EventBus

#: The bus topic; each event is the id of an account whose entries changed.
TOPIC: Final = "loyalty.account"


class NotifyServices(Protocol):
    @property
    def events(self) -> EventBus: ...


def account_changed(services: NotifyServices, account_id: str) -> None:
    """Announce that ``account_id``'s balance, pending points or tier may have changed."""
    services.events.publish(TOPIC, account_id)
