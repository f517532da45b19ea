"""What every resolver gets through ``info.context``.

``Services`` live as long as the app (store, connectors, event bus, config); a
``RequestContext`` lives for one HTTP request or one WebSocket connection and carries the
``Viewer`` and the DataLoaders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from connectors.records import Source
from connectors.registry import ConnectorSet
from resolvers.customers.admin import ProfileAdmin
from resolvers.customers.linking import Linker
from resolvers.customers.service import CustomerService, utcnow
from resolvers.events import EventBus
from resolvers.identity.normalize import normalize_email, normalize_phone
from resolvers.identity.placeholders import Placeholders
from resolvers.loaders import Loaders
from resolvers.locations import LocationDirectory
from resolvers.store import Store
from resolvers.viewer import Viewer


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    """The settings resolvers need, copied from the gateway's settings so that resolvers do
    not depend on the serving layer."""

    max_page_size: int = 100
    default_phone_region: str = "US"
    profile_ttl_seconds: int = 300
    refresh_deadline_seconds: float = 30.0
    placeholder_emails: tuple[str, ...] = ()
    placeholder_phones: tuple[str, ...] = ()
    placeholder_threshold: int = 5
    #: Most records of one source in one profile; empty: each vendor's own limit.
    identity_limits: tuple[tuple[str, int], ...] = ()


@dataclass(slots=True)
class Services:
    store: Store
    connectors: ConnectorSet
    events: EventBus
    config: ResolverConfig = field(default_factory=ResolverConfig)
    version: str = "0.0.0"
    demo_mode: bool = False
    customers: CustomerService = field(init=False)
    linker: Linker = field(init=False)
    admin: ProfileAdmin = field(init=False)
    locations: LocationDirectory = field(init=False)

    def __post_init__(self) -> None:
        region = self.config.default_phone_region
        placeholders = Placeholders()
        placeholders.add(
            v
            for v in (
                *(normalize_email(e) for e in self.config.placeholder_emails),
                *(normalize_phone(p, region) for p in self.config.placeholder_phones),
            )
            if v
        )
        self.customers = CustomerService(
            self.store,
            self.connectors,
            ttl=timedelta(seconds=self.config.profile_ttl_seconds),
            region=region,
            placeholders=placeholders,
            refresh_deadline=self.config.refresh_deadline_seconds,
        )
        self.linker = Linker(
            self.store,
            region=self.config.default_phone_region,
            limits={Source(s): n for s, n in self.config.identity_limits} or None,
            placeholders=placeholders,
            placeholder_threshold=self.config.placeholder_threshold,
            clock=utcnow,
        )
        self.locations = LocationDirectory(self.connectors)
        self.admin = ProfileAdmin(
            self.store, self.connectors, clock=utcnow, placeholders=placeholders
        )


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
