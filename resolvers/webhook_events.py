"""What Omnigate does when a vendor says something changed.

The gateway verifies and dedupes deliveries, then hands each parsed event here. Handlers are
registered per event type; features add theirs (profile invalidation, loyalty accrual) with
:meth:`WebhookDispatcher.on`. Every event is also published on the bus as
``webhook.<EventType>`` so subscriptions and background tasks can react.

What a handler raises tells the gateway what to answer: :class:`~resolvers.store.StoreError`
or :class:`~connectors.errors.UpstreamError` (an outage: the vendor retries later), anything
else (the event cannot be applied as it is: it is dead-lettered). See
:mod:`gateway.webhooks`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from connectors.records import (
    CustomerChanged,
    InventoryChanged,
    LocationChanged,
    OrderChanged,
    PrivacyRequest,
    RefundCreated,
    WebhookEvent,
)
from resolvers.context import Services
from resolvers.customers import events as customer_events
from resolvers.delivery import Delivery, delivering
from resolvers.stock import webhooks as stock_webhooks

log = logging.getLogger("omnigate.webhooks")

E = TypeVar("E", bound=WebhookEvent)
Handler = Callable[[Services, Any], Awaitable[None]]


class WebhookDispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._handlers: dict[type[WebhookEvent], list[Handler]] = defaultdict(list)
        self.on(InventoryChanged, stock_webhooks.apply_inventory_change)
        self.on(CustomerChanged, customer_events.on_customer_changed)
        self.on(OrderChanged, customer_events.on_order_changed)
        self.on(OrderChanged, stock_webhooks.refresh_order_stock)
        self.on(RefundCreated, customer_events.on_refund_created)
        self.on(RefundCreated, stock_webhooks.refresh_order_stock)
        self.on(PrivacyRequest, customer_events.on_privacy_request)
        self.on(LocationChanged, forget_locations)

    def on(self, event_type: type[E], handler: Callable[[Services, E], Awaitable[None]]) -> None:
        self._handlers[event_type].append(handler)

    async def handle(self, event: WebhookEvent, delivery: Delivery | None = None) -> None:
        """Run the event's handlers; ``delivery`` (what the gateway received) is visible to
        them through :func:`resolvers.delivery.current_delivery`."""
        with delivering(delivery):
            for event_type in type(event).__mro__:
                for handler in self._handlers.get(event_type, ()):
                    await handler(self.services, event)
        self.services.events.publish(f"webhook.{type(event).__name__}", event)


async def forget_locations(services: Services, event: LocationChanged) -> None:
    services.locations.invalidate()
