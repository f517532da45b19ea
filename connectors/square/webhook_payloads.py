"""The shape of each Square webhook event, checked before anything acts on it.

Square signs the notification URL and the body, and the body carries ``type`` and
``event_id``, so a delivery cannot be relabelled as another event. These models still refuse
a body the mapping could not use (``"email_address": 123``, counts that are not a list) with
the field named, so it becomes a dead letter instead of an error deep in the dispatcher, and
they check that ``data.type``, when sent, is the one Square sends with that event type.

Lenient where Square is: unknown fields allowed (new API versions add them), optional fields
absent or null. The envelope is ``{merchant_id, type, event_id, created_at, data{type, id,
object}}`` (``shared/specs/square/api.json``, the ``x-webhook`` event schemas).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class Envelope(_Lenient):
    merchant_id: StrictStr | None = None
    type: NonEmpty
    event_id: NonEmpty
    created_at: StrictStr | None = None
    data: dict[str, Any]


class Data(_Lenient):
    """``data`` of one family of events; ``kinds`` are the ``data.type`` values Square sends
    with it (compared without case: Square writes ``Location`` for locations)."""

    kinds: ClassVar[frozenset[str]] = frozenset()

    type: StrictStr | None = None
    id: StrictStr | None = None

    @model_validator(mode="after")
    def _of_this_kind(self) -> Data:
        if self.type is not None and self.kinds and self.type.lower() not in self.kinds:
            raise ValueError(f"data.type is not one of {', '.join(sorted(self.kinds))}")
        return self


# --- customers --------------------------------------------------------------------------------


class Customer(_Lenient):
    id: NonEmpty
    given_name: StrictStr | None = None
    family_name: StrictStr | None = None
    email_address: StrictStr | None = None
    phone_number: StrictStr | None = None
    note: StrictStr | None = None
    created_at: StrictStr | None = None
    updated_at: StrictStr | None = None
    address: dict[str, Any] | None = None
    preferences: dict[str, Any] | None = None


class CustomerObject(_Lenient):
    customer: Customer | None = None


class CustomerData(Data):
    kinds = frozenset({"customer"})

    object: CustomerObject | None = None

    @model_validator(mode="after")
    def _names_a_customer(self) -> CustomerData:
        inner = self.object.customer if self.object is not None else None
        if not self.id and inner is None:
            raise ValueError("a customer event names its customer (data.id)")
        if self.id and inner is not None and inner.id != self.id:
            raise ValueError("data.id and data.object.customer.id differ")
        return self


class CustomerDeletedData(CustomerData):
    """Destructive: the deleted customer's id is required in ``data.id``."""

    id: NonEmpty


# --- orders and refunds -------------------------------------------------------------------------


class OrderSummary(_Lenient):
    order_id: NonEmpty
    location_id: StrictStr | None = None
    state: StrictStr | None = None
    version: StrictInt | None = None


class OrderObject(_Lenient):
    order_created: OrderSummary | None = None
    order_updated: OrderSummary | None = None


class OrderData(Data):
    kinds = frozenset({"order", "order_created", "order_updated"})

    object: OrderObject | None = None

    @model_validator(mode="after")
    def _names_an_order(self) -> OrderData:
        summary = self.object and (self.object.order_updated or self.object.order_created)
        if not self.id and summary is None:
            raise ValueError("an order event names its order")
        return self


class Money(_Lenient):
    amount: StrictInt
    currency: NonEmpty


class RefundBody(_Lenient):
    id: StrictStr | None = None
    order_id: StrictStr | None = None
    status: StrictStr | None = None
    amount_money: Money | None = None


class RefundObject(_Lenient):
    refund: RefundBody | None = None


class RefundData(Data):
    kinds = frozenset({"refund"})

    object: RefundObject | None = None


# --- inventory and locations ----------------------------------------------------------------------


class Count(_Lenient):
    catalog_object_id: StrictStr | None = None
    catalog_object_type: StrictStr | None = None
    location_id: StrictStr | None = None
    state: StrictStr | None = None
    quantity: StrictStr | StrictInt | None = None
    calculated_at: StrictStr | None = None


class CountsObject(_Lenient):
    inventory_counts: list[Count]


class InventoryData(Data):
    kinds = frozenset({"inventory_counts", "inventory_count", "inventory"})

    object: CountsObject


class LocationData(Data):
    kinds = frozenset({"location"})


DATA: dict[str, type[Data]] = {
    "customer.created": CustomerData,
    "customer.updated": CustomerData,
    "customer.deleted": CustomerDeletedData,
    "order.created": OrderData,
    "order.updated": OrderData,
    "refund.created": RefundData,
    "refund.updated": RefundData,
    "inventory.count.updated": InventoryData,
    "location.created": LocationData,
    "location.updated": LocationData,
}
