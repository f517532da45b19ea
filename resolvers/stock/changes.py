"""The one place a stock change is announced.

Every write that changes a stock level or the units held against it calls
:func:`level_changed` once the write is stored: a vendor webhook, a hold, its release,
expiry or settlement, a reconciliation repair. It reads the level back as stored (with the
store's ``held`` and ``version``), so subscribers always see what the store holds, never
what the caller believed it wrote, and publishes it on the event bus under
:data:`STOCK_TOPIC`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from resolvers.events import EventBus
from resolvers.model import StockLevel
from resolvers.store import Store

#: The bus topic of stock changes (``stockChanged`` subscribers listen to it).
STOCK_TOPIC = "stock"


@dataclass(frozen=True, slots=True)
class StockChange:
    """A level as stored after a change, and what changed it (``webhook``, ``hold``,
    ``release``, ``expiry``, ``settlement``, ``reconciliation``)."""

    level: StockLevel
    cause: str


class StockServices(Protocol):
    """What announcing a change needs (``resolvers.context.Services`` has it); a protocol,
    so the stock package never imports the container that will hold its services."""

    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventBus: ...


async def level_changed(services: StockServices, sku: str, location_id: str, *, cause: str) -> None:
    for level in await services.store.inventory.get_stock([sku], [location_id]):
        services.events.publish(STOCK_TOPIC, StockChange(level, cause))
