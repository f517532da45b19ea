"""What every resolver gets through ``info.context``.

``Services`` live as long as the app (store, connectors, event bus, config, and the services
built over them); a ``RequestContext`` lives for one HTTP request or one WebSocket connection
and carries the ``Viewer`` and the DataLoaders.

``Services`` is a plain container: every long-lived object in it is built by the composition
root (``gateway.runtime``), which is the one place that knows how they fit together. The
customer use cases do not import this module (they take the protocols of
:mod:`resolvers.customers.ports`), so the container may hold their services without an import
cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.registry import ConnectorSet
from resolvers.config import ResolverConfig
from resolvers.customers.admin import ProfileAdmin
from resolvers.customers.linking import Linker
from resolvers.customers.service import CustomerService
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from resolvers.locations import LocationDirectory
from resolvers.store import Store
from resolvers.viewer import Viewer

__all__ = ["RequestContext", "ResolverConfig", "Services"]


@dataclass(slots=True)
class Services:
    store: Store
    connectors: ConnectorSet
    events: EventBus
    customers: CustomerService
    linker: Linker
    admin: ProfileAdmin
    locations: LocationDirectory
    config: ResolverConfig = field(default_factory=ResolverConfig)
    version: str = "0.0.0"
    demo_mode: bool = False
    #: Told the code of each pickup hold refused before the store was asked (the gateway's
    #: metrics; what the store decides is counted where the gateway wraps it).
    hold_refused: Callable[[str], None] = field(default=lambda code: None)


@dataclass(slots=True)
class RequestContext:
    viewer: Viewer
    services: Services
    loaders: Loaders = field(default_factory=Loaders)
    #: The Starlette ``Request`` or ``WebSocket``; strawberry's integration reads it.
    request: Any = None
    response: Any = None
    #: graphql-transport-ws ``connection_init`` payload (strawberry sets it).
    connection_params: dict[str, Any] | None = None
