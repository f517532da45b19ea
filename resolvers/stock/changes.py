"""The one place a stock change is announced.

Every store write that changes a stock level or the units held against it returns the
journal entry it wrote (:class:`~resolvers.model.StockChange`: the level as stored, with the
store's ``held`` and ``version``, and a ``seq``). The caller passes it to :func:`announce`,
which publishes it on the event bus under :data:`STOCK_TOPIC`: a vendor webhook, a hold, its
release, expiry or settlement, a reconciliation repair. Subscribers therefore see what the
store holds, never what the caller believed it wrote, and the ``seq`` lets a subscriber
that reconnects ask the journal for what it missed.
"""

from __future__ import annotations

from typing import Protocol

from resolvers.events import EventBus
from resolvers.model import StockChange
from resolvers.store import Store

#: The bus topic of stock changes (``stockChanged`` subscribers listen to it).
STOCK_TOPIC = "stock"


class StockServices(Protocol):
    """What announcing a change needs (``resolvers.context.Services`` has it); a protocol,
    so the stock package never imports the container that will hold its services."""

    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventBus: ...


async def announce(services: StockServices, change: StockChange | None) -> None:
    """Publish a stored change; ``None`` (the write changed nothing) announces nothing."""
    if change is not None:
        services.events.publish(STOCK_TOPIC, change)
