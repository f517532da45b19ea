"""What the customer use cases need from the app's services and from a request.

The queries, operations, webhook handlers and sync of this package take these protocols, not
:class:`resolvers.context.Services` and :class:`~resolvers.context.RequestContext`: the
container holds this package's services (and is built by the composition root,
``gateway.runtime``), so it depends on this package, and this package must not depend on it
back. ``lint-imports`` keeps the two apart (no cycle among the siblings of ``resolvers``).
"""

from __future__ import annotations

from typing import Protocol

from connectors.registry import ConnectorSet
from resolvers.config import ResolverConfig
from resolvers.customers.admin import ProfileAdmin
from resolvers.customers.linking import Linker
from resolvers.customers.service import CustomerService
from resolvers.loaders import Loaders
from resolvers.locations import LocationDirectory
from resolvers.store import Store
from resolvers.viewer import Viewer


class CustomerServices(Protocol):
    """The long-lived services the customer use cases call."""

    @property
    def store(self) -> Store: ...

    @property
    def connectors(self) -> ConnectorSet: ...

    @property
    def config(self) -> ResolverConfig: ...

    @property
    def customers(self) -> CustomerService: ...

    @property
    def linker(self) -> Linker: ...

    @property
    def admin(self) -> ProfileAdmin: ...

    @property
    def locations(self) -> LocationDirectory: ...


class CustomerRequest(Protocol):
    """One request (or WebSocket connection): who asks, the services, its DataLoaders."""

    @property
    def viewer(self) -> Viewer: ...

    @property
    def services(self) -> CustomerServices: ...

    @property
    def loaders(self) -> Loaders: ...
