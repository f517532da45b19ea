"""The sandbox's own copy of the demo world, and lookups by Shopify id.

The sandbox deep-copies the world it is given: a sale made through the Shopify sandbox's
control API changes Shopify's stock and orders, not the Square sandbox's, just as the two
real systems keep separate books. (``copy_world=False`` serves the world as is, for callers
that never change it and want to skip the copy, such as read-only tests on a large world.)

Time: generated records are stamped up to ``world.now``; records the control API creates or
changes are stamped by :meth:`SandboxState.now`, from the stack's shared
:class:`~sandboxes.base.clock.SandboxClock` (wall-clock time, never before ``world.now``,
strictly increasing), in whole seconds as Shopify's timestamps are. A change is therefore
always newer than what the gateway last read, and on the same clock as the other sandboxes'.
"""

from __future__ import annotations

import copy
from datetime import datetime

from sandboxes.base.clock import SECOND, SandboxClock
from sandboxes.demo import (
    DemoLocation,
    DemoVariant,
    DemoWorld,
    ShopifyCustomer,
    ShopifyOrder,
    StockLevel,
)


class SandboxState:
    def __init__(
        self,
        world: DemoWorld,
        *,
        sandbox_clock: SandboxClock | None = None,
        copy_world: bool = True,
    ) -> None:
        self.world = copy.deepcopy(world) if copy_world else world
        self.world.reindex()
        self.clock = sandbox_clock or SandboxClock(self.world.now)
        self.deleted_customers: set[int] = set()
        #: Shopify location ids marked inactive through the control API.
        self.inactive_locations: set[int] = set()
        self.location_names: dict[int, str] = {}

    def now(self) -> datetime:
        """Whole seconds (Shopify's timestamps have no fraction), strictly increasing, and
        after everything in the generated world."""
        return self.clock.now(SECOND)

    # --- lookups ---------------------------------------------------------------------------

    def customers(self) -> list[ShopifyCustomer]:
        return [c for c in self.world.shopify_customers if c.id not in self.deleted_customers]

    def customer(self, id_: int) -> ShopifyCustomer | None:
        if id_ in self.deleted_customers:
            return None
        return self.world.shopify_customers_by_id.get(id_)

    def orders(self) -> list[ShopifyOrder]:
        return self.world.shopify_orders

    def order(self, id_: int) -> ShopifyOrder | None:
        return self.world.shopify_orders_by_id.get(id_)

    def orders_of(self, customer_id: int) -> list[ShopifyOrder]:
        return list(self.world.shopify_orders_by_customer.get(customer_id, ()))

    def orders_by_email(self, email: str) -> list[ShopifyOrder]:
        return list(self.world.shopify_orders_by_email.get(email.lower(), ()))

    def locations(self) -> list[DemoLocation]:
        return self.world.locations

    def location(self, id_: int) -> DemoLocation | None:
        return self.world.locations_by_shopify_id.get(id_)

    def location_by_ref(self, ref: str) -> DemoLocation | None:
        """A location by code (``BOS``), unified id (``shopify:1``), global or numeric id."""
        text = ref.strip()
        if text in self.world.locations_by_code:
            return self.world.locations_by_code[text]
        digits = text.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return self.location(int(digits)) if digits.isdigit() else None

    def location_active(self, location: DemoLocation) -> bool:
        return location.shopify_location_id not in self.inactive_locations

    def location_name(self, location: DemoLocation) -> str:
        return self.location_names.get(location.shopify_location_id, location.name)

    def variants(self) -> list[DemoVariant]:
        return self.world.variants

    def variant(self, variant_id: int) -> DemoVariant | None:
        return self.world.variants_by_shopify_id.get(variant_id)

    def variant_by_item(self, item_id: int) -> DemoVariant | None:
        return self.world.variants_by_inventory_item_id.get(item_id)

    def variant_by_sku(self, sku: str) -> DemoVariant | None:
        return self.world.variants_by_sku.get(sku)

    def stock(self, sku: str, location: DemoLocation) -> StockLevel | None:
        return self.world.stock_by_key.get((sku, location.code))

    def stock_of_item(self, variant: DemoVariant) -> list[StockLevel]:
        rows = [self.stock(variant.sku, loc) for loc in self.world.locations]
        return [r for r in rows if r is not None]

    def stock_at(self, location: DemoLocation) -> list[StockLevel]:
        return [s for s in self.world.stock if s.location_code == location.code]

    def product_created(self, variant: DemoVariant) -> datetime:
        return self.world.products_by_code[variant.product_code].created_at

    def product_title(self, variant: DemoVariant) -> str:
        return self.world.products_by_code[variant.product_code].title
