"""Capability protocols: what resolvers depend on, instead of vendors.

A vendor connector implements the capabilities it can (Shopify: customers, orders,
locations, inventory; Klaviyo: marketing). Resolvers ask the registry for "every enabled
``CustomerSource``" and never name a vendor, so enabling or disabling one is a setting.

Every method is batched: it takes many keys and returns a mapping, because resolvers call
them from DataLoaders that collect one event-loop tick of requests into one call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from connectors.records import (
    CatalogVariant,
    CustomerBundle,
    CustomerRecord,
    Engagement,
    InventoryLevel,
    LocationRecord,
    MarketingProfile,
    OrderRecord,
    ProfileUpdate,
    Source,
)


@runtime_checkable
class Connector(Protocol):
    """What the gateway needs from every connector: a name, a lifecycle and its health."""

    source: Source

    async def start(self) -> None:
        """Open the connector's HTTP session. Called once by the app lifespan."""

    async def close(self) -> None:
        """Close the HTTP session."""

    def circuit_state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        ...


@runtime_checkable
class CustomerSource(Protocol):
    source: Source

    async def get_customers(self, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        """Customers by the vendor's id; ids that do not exist are absent from the result."""
        ...

    async def search_customers(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        name: str | None = None,
    ) -> list[CustomerRecord]:
        """Customers matching any of the given emails or phones (exact), or a name prefix."""
        ...

    def list_customers(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[CustomerRecord]]:
        """Pages of customers, oldest update first, for backfill and incremental sync."""
        ...


@runtime_checkable
class OrderSource(Protocol):
    source: Source

    async def orders_for_customers(
        self, customer_ids: Sequence[str]
    ) -> Mapping[str, list[OrderRecord]]:
        """Every order of each customer, keyed by the vendor's customer id."""
        ...

    async def get_orders(self, ids: Sequence[str]) -> Mapping[str, OrderRecord]: ...


@runtime_checkable
class GuestOrderSource(Protocol):
    """Orders found by their contact email: a guest checkout has an email but no customer,
    so only its email ties it to a person."""

    source: Source

    async def orders_for_emails(self, emails: Sequence[str]) -> Mapping[str, list[OrderRecord]]: ...


@runtime_checkable
class CustomerBundleSource(Protocol):
    """Customers, their orders and the orders placed with some emails, in as few calls as
    the vendor allows (Shopify: one GraphQL request for a few customers). A source with
    this capability is read through it rather than through its three separate ones, so a
    cold 360 waits for one round trip to it instead of three side by side."""

    source: Source

    async def customer_bundle(
        self, customer_ids: Sequence[str], emails: Sequence[str]
    ) -> CustomerBundle: ...


@runtime_checkable
class LocationSource(Protocol):
    source: Source

    async def list_locations(self) -> list[LocationRecord]: ...


@runtime_checkable
class InventorySource(Protocol):
    source: Source

    async def inventory_levels(
        self, skus: Sequence[str], location_ids: Sequence[str] | None = None
    ) -> list[InventoryLevel]:
        """Levels for many SKUs at many (unified) locations; all locations when ``None``."""
        ...

    def list_inventory_levels(self) -> AsyncIterator[list[InventoryLevel]]:
        """Every level the source has, every SKU at every location, in lists (pages) as
        the vendor serves them: the bulk read behind warmup and reconciliation."""
        ...


@runtime_checkable
class ItemInventorySource(Protocol):
    """Levels of one item named by the vendor's own id (a Shopify inventory item, a Square
    item variation): a stock webhook for an item not yet known by its SKU is re-read
    through it instead of being dropped."""

    source: Source

    async def item_levels(self, item_ref: str) -> list[InventoryLevel]: ...


@runtime_checkable
class CatalogSource(Protocol):
    """The variants a source sells, for the one SKU <-> vendor id map
    (:func:`resolvers.stock.catalog.refresh_catalog`)."""

    source: Source

    def list_variants(self) -> AsyncIterator[list[CatalogVariant]]:
        """Pages of every variant that has a SKU (variants without one cannot be joined)."""
        ...


@runtime_checkable
class SkuMapConsumer(Protocol):
    """A connector that resolves its own ids to SKUs while parsing (a webhook that names an
    inventory item or a catalog variation). It is handed the gateway's one catalog map
    after every refresh, instead of building a map of its own."""

    source: Source

    def adopt_sku_map(self, refs: Mapping[str, Mapping[str, str]]) -> int:
        """``refs``: kind of id (``inventory_item``, ``variation``...) -> its id -> SKU, for
        this source. Returns how many ids it now resolves."""
        ...


@runtime_checkable
class MarketingSource(Protocol):
    source: Source

    async def profiles(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        ids: Sequence[str] = (),
    ) -> list[MarketingProfile]: ...

    async def engagement(self, profile_ids: Sequence[str]) -> Mapping[str, Engagement]: ...


@runtime_checkable
class MarketingDirectory(Protocol):
    """Listing every marketing profile, for backfill: the email tool knows people who never
    bought anywhere (subscribers), and sync must find them."""

    source: Source

    def list_profiles(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[MarketingProfile]]: ...


@runtime_checkable
class MarketingSink(Protocol):
    source: Source

    async def update_profiles(self, updates: Sequence[ProfileUpdate]) -> None:
        """Write properties to many profiles (one PATCH for one, a bulk job for many)."""

    async def request_deletion(self, *, email: str | None, phone: str | None) -> None:
        """Ask the vendor to erase a person (privacy request)."""
