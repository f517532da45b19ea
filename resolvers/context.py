"""What every resolver gets through ``info.context``.

``Services`` live as long as the app (store, connectors, event bus, config); a
``RequestContext`` lives for one HTTP request or one WebSocket connection and carries the
``Viewer`` and the DataLoaders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.registry import ConnectorSet
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from resolvers.store import Store
from resolvers.viewer import Viewer


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    """The settings resolvers need, copied from the gateway's settings so that resolvers do
    not depend on the serving layer."""

    max_page_size: int = 100
    default_phone_region: str = "US"
    profile_ttl_seconds: int = 300


@dataclass(slots=True)
class Services:
    store: Store
    connectors: ConnectorSet
    events: EventBus
    config: ResolverConfig = field(default_factory=ResolverConfig)
    version: str = "0.0.0"
    demo_mode: bool = False


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
