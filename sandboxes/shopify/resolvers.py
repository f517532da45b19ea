"""Resolvers binding the trimmed Admin schema to the sandbox state.

Connections follow Shopify's rules: ``first`` or ``last`` is required and at most 250,
cursors are opaque and stable (they encode the sort key, so a record added between two pages
neither repeats nor shifts the next page), ``reverse`` flips the order, ``sortKey`` picks it,
and ``query`` filters with Shopify's search syntax (:mod:`sandboxes.shopify.search`).
``nodes(ids:)`` takes at most 250 ids and answers ``null`` for ids that name nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema, build_schema

from sandboxes.demo import (
    DemoLocation,
    DemoVariant,
    ShopifyCustomer,
    ShopifyOrder,
    StockLevel,
)
from sandboxes.shopify import render
from sandboxes.shopify.sdl import sdl
from sandboxes.shopify.search import Field, Index, Searcher, SearchSyntaxError
from sandboxes.shopify.state import SandboxState

T = TypeVar("T")
Obj = dict[str, Any]
Key = tuple[Any, ...]

MAX_PAGE = 250


# --- search fields per resource ----------------------------------------------------------------


def _one(value: object) -> list[object]:
    return [] if value is None else [value]


CUSTOMER_SEARCH: Searcher[ShopifyCustomer] = Searcher(
    {
        "id": Field(lambda c: [c.id], "number"),
        "email": Field(lambda c: _one(c.email)),
        "phone": Field(lambda c: _one(c.phone), "phone"),
        "first_name": Field(lambda c: _one(c.first_name)),
        "last_name": Field(lambda c: _one(c.last_name)),
        "state": Field(lambda c: [c.state]),
        "tag": Field(lambda c: list(c.tags)),
        "created_at": Field(lambda c: [c.created_at], "date"),
        "updated_at": Field(lambda c: [c.updated_at], "date"),
    },
    default=("first_name", "last_name", "email", "phone"),
)

ORDER_SEARCH: Searcher[ShopifyOrder] = Searcher(
    {
        "id": Field(lambda o: [o.id], "number"),
        "name": Field(lambda o: [o.name, o.name.lstrip("#")]),
        "customer_id": Field(lambda o: _one(o.customer_id), "number"),
        "email": Field(lambda o: _one(o.email)),
        "source_name": Field(lambda o: [o.source_name]),
        "location_id": Field(lambda o: [o.location_id], "number"),
        "sku": Field(lambda o: [line.sku for line in o.lines]),
        "financial_status": Field(lambda o: [o.financial_status]),
        "created_at": Field(lambda o: [o.created_at], "date"),
        "processed_at": Field(lambda o: [o.created_at], "date"),
        "updated_at": Field(lambda o: [o.updated_at], "date"),
    },
    default=("name", "email"),
)

VARIANT_SEARCH: Searcher[DemoVariant] = Searcher(
    {
        "id": Field(lambda v: [v.shopify_inventory_item_id], "number"),
        "sku": Field(lambda v: [v.sku]),
        "barcode": Field(lambda v: [v.barcode]),
        "title": Field(lambda v: [v.title]),
    },
    default=("sku", "title"),
)

PRODUCT_VARIANT_SEARCH: Searcher[DemoVariant] = Searcher(
    {
        "id": Field(lambda v: [v.shopify_variant_id], "number"),
        "sku": Field(lambda v: [v.sku]),
        "barcode": Field(lambda v: [v.barcode]),
        "title": Field(lambda v: [v.title]),
    },
    default=("sku", "title"),
)

LOCATION_SEARCH: Searcher[DemoLocation] = Searcher(
    {
        "id": Field(lambda loc: [loc.shopify_location_id], "number"),
        "name": Field(lambda loc: [loc.name]),
        "city": Field(lambda loc: _one(loc.address.city)),
        "province": Field(lambda loc: _one(loc.address.region)),
    },
    default=("name",),
)


# --- connections -------------------------------------------------------------------------------


def _encode(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Key:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise GraphQLError(f"Invalid cursor: {cursor}") from None
    if not isinstance(value, list):
        raise GraphQLError(f"Invalid cursor: {cursor}")
    return tuple(value)


def _page_args(args: dict[str, Any], field: str) -> tuple[int | None, int | None]:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError(f"you must provide one of first or last for the {field} connection")
    for name, value in (("first", first), ("last", last)):
        if value is not None and (value < 0 or value > MAX_PAGE):
            raise GraphQLError(
                f"The '{name}' argument of {field} must be between 0 and {MAX_PAGE}."
            )
    return first, last


def connection(
    items: Sequence[T],
    render_item: Callable[[T], Obj],
    key: Callable[[T], Key],
    args: dict[str, Any],
    field: str,
) -> Obj:
    first, last = _page_args(args, field)
    reverse = bool(args.get("reverse"))
    ordered = sorted(items, key=key, reverse=reverse)
    after, before = args.get("after"), args.get("before")
    if after:
        mark = _decode(after)
        ordered = [i for i in ordered if (key(i) < mark if reverse else key(i) > mark)]
    if before:
        mark = _decode(before)
        ordered = [i for i in ordered if (key(i) > mark if reverse else key(i) < mark)]
    has_next = has_previous = False
    if first is not None:
        has_next = len(ordered) > first
        ordered = ordered[:first]
        has_previous = bool(after)
    if last is not None:
        has_previous = len(ordered) > last
        ordered = ordered[len(ordered) - last :] if last else []
        has_next = has_next or bool(before)
    edges = [{"cursor": _encode(key(i)), "node": render_item(i)} for i in ordered]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _filter(
    searcher: Searcher[T],
    items: Sequence[T],
    query: str | None,
    indexes: Mapping[str, Index[T]] | None = None,
) -> list[T]:
    try:
        return searcher.filter(items, query, indexes)
    except SearchSyntaxError as exc:
        raise GraphQLError(f"Invalid search query: {exc}") from None


def _ts(value: Any) -> str:
    return render.iso(value) or ""


def _customer_key(sort: str) -> Callable[[ShopifyCustomer], Key]:
    if sort == "UPDATED_AT":
        return lambda c: (_ts(c.updated_at), c.id)
    if sort == "CREATED_AT":
        return lambda c: (_ts(c.created_at), c.id)
    if sort == "NAME":
        return lambda c: (f"{c.first_name} {c.last_name}".lower(), c.id)
    return lambda c: (c.id,)


def _order_key(sort: str) -> Callable[[ShopifyOrder], Key]:
    if sort in ("PROCESSED_AT", "CREATED_AT"):
        return lambda o: (_ts(o.created_at), o.id)
    if sort == "UPDATED_AT":
        return lambda o: (_ts(o.updated_at), o.id)
    if sort == "ORDER_NUMBER":
        return lambda o: (o.number, o.id)
    if sort in ("TOTAL_PRICE", "CURRENT_TOTAL_PRICE"):
        return lambda o: (str(o.total.quantize(Decimal("0.01"))).zfill(16), o.id)
    return lambda o: (o.id,)


# --- root fields -------------------------------------------------------------------------------


def _numeric(value: str, kind: str | None = None) -> int | None:
    """The numeric id in a global id of ``kind``; ``None`` for another kind."""
    if not isinstance(value, str) or not value.startswith("gid://shopify/"):
        raise GraphQLError(f"Invalid global id '{value}'")
    path = value[len("gid://shopify/") :].split("?", 1)[0]
    parts = path.split("/")
    if len(parts) != 2 or not parts[1].isdigit():
        raise GraphQLError(f"Invalid global id '{value}'")
    if kind is not None and parts[0] != kind:
        return None
    return int(parts[1])


def node_for(state: SandboxState, id_: str) -> Obj | None:
    kind = id_[len("gid://shopify/") :].split("/", 1)[0] if isinstance(id_, str) else ""
    number = _numeric(id_)
    assert number is not None
    if kind == "Customer":
        c = state.customer(number)
        return render.customer(state, c) if c is not None else None
    if kind == "Order":
        o = state.order(number)
        return render.order(state, o) if o is not None else None
    if kind == "Location":
        loc = state.location(number)
        return render.location(state, loc) if loc is not None else None
    if kind == "InventoryItem":
        v = state.variant_by_item(number)
        return render.inventory_item(state, v) if v is not None else None
    if kind == "ProductVariant":
        pv = state.variant(number)
        return render.product_variant(state, pv) if pv is not None else None
    if kind == "InventoryLevel":
        level = _level_by_gid(state, id_)
        return render.inventory_level(state, level) if level is not None else None
    return None


def _level_by_gid(state: SandboxState, id_: str) -> StockLevel | None:
    location_id = _numeric(id_, "InventoryLevel")
    if location_id is None or "inventory_item_id=" not in id_:
        return None
    item = id_.split("inventory_item_id=", 1)[1]
    variant = state.variant_by_item(int(item)) if item.isdigit() else None
    loc = state.location(location_id)
    if variant is None or loc is None:
        return None
    return state.stock(variant.sku, loc)


def _ctx(info: Any) -> SandboxState:
    state = info.context
    assert isinstance(state, SandboxState)
    return state


def q_node(_: Any, info: Any, id: str) -> Obj | None:
    return node_for(_ctx(info), id)


def q_nodes(_: Any, info: Any, ids: list[str]) -> list[Obj | None]:
    if len(ids) > MAX_PAGE:
        raise GraphQLError(f"The 'ids' argument can contain at most {MAX_PAGE} ids.")
    state = _ctx(info)
    return [node_for(state, i) for i in ids]


def _typed(kind: str) -> Callable[..., Obj | None]:
    def resolve(_: Any, info: Any, id: str | None = None) -> Obj | None:
        if id is None:
            return None
        state = _ctx(info)
        if _numeric(id, kind) is None:
            return None
        return node_for(state, id)

    return resolve


def q_customers(_: Any, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    found = _filter(CUSTOMER_SEARCH, state.customers(), args.get("query"))
    return connection(
        found,
        lambda c: render.customer(state, c),
        _customer_key(args.get("sortKey") or "ID"),
        args,
        "customers",
    )


def q_customer_by_identifier(_: Any, info: Any, identifier: dict[str, Any]) -> Obj | None:
    state = _ctx(info)
    given = {k: v for k, v in identifier.items() if v is not None}
    if len(given) != 1:
        raise GraphQLError("identifier must set exactly one of id, emailAddress, phoneNumber")
    ((kind, value),) = given.items()
    if kind == "id":
        return node_for(state, value) if _numeric(value, "Customer") is not None else None
    if kind == "emailAddress":
        query = f'email:"{_escape(value)}"'
    elif kind == "phoneNumber":
        query = f'phone:"{_escape(value)}"'
    else:
        return None  # custom ids (metafields) are not modelled
    found = _filter(CUSTOMER_SEARCH, state.customers(), query)
    return render.customer(state, found[0]) if found else None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def q_orders(_: Any, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    indexes: dict[str, Index[ShopifyOrder]] = {
        "customer_id": lambda value: state.orders_of(int(value)) if value.isdigit() else [],
        "email": state.orders_by_email,
    }
    found = _filter(ORDER_SEARCH, state.orders(), args.get("query"), indexes)
    return connection(
        found,
        lambda o: render.order(state, o),
        _order_key(args.get("sortKey") or "PROCESSED_AT"),
        args,
        "orders",
    )


def q_locations(_: Any, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    pool = [
        loc
        for loc in state.locations()
        if args.get("includeInactive") or state.location_active(loc)
    ]
    found = _filter(LOCATION_SEARCH, pool, args.get("query"))
    key: Callable[[DemoLocation], Key] = (
        (lambda loc: (loc.shopify_location_id,))
        if args.get("sortKey") == "ID"
        else (lambda loc: (state.location_name(loc).lower(), loc.shopify_location_id))
    )
    return connection(found, lambda loc: render.location(state, loc), key, args, "locations")


def q_inventory_items(_: Any, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    found = _filter(VARIANT_SEARCH, state.variants(), args.get("query"))
    return connection(
        found,
        lambda v: render.inventory_item(state, v),
        lambda v: (v.shopify_inventory_item_id,),
        args,
        "inventoryItems",
    )


def q_product_variants(_: Any, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    found = _filter(PRODUCT_VARIANT_SEARCH, state.variants(), args.get("query"))
    key: Callable[[DemoVariant], Key] = (
        (lambda v: (v.sku, v.shopify_variant_id))
        if args.get("sortKey") == "SKU"
        else (lambda v: (v.shopify_variant_id,))
    )
    return connection(found, lambda v: render.product_variant(state, v), key, args, "variants")


def q_shop(_: Any, info: Any) -> Obj:
    return render.shop(_ctx(info))


# --- object fields with arguments --------------------------------------------------------------


def customer_orders(obj: Obj, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    mine = _filter(ORDER_SEARCH, state.orders_of(obj["_raw"].id), args.get("query"))
    return connection(
        mine,
        lambda o: render.order(state, o),
        _order_key(args.get("sortKey") or "PROCESSED_AT"),
        args,
        "orders",
    )


def customer_addresses(obj: Obj, info: Any, **args: Any) -> Obj:
    addresses: list[Obj] = obj["_addresses"]
    indexed = list(enumerate(addresses))
    page = connection(indexed, lambda pair: pair[1], lambda pair: (pair[0],), args, "addressesV2")
    return page


def order_line_items(obj: Obj, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    order: ShopifyOrder = obj["_raw"]
    return connection(
        order.lines,
        lambda item: render.line_item(state, order, item),
        lambda item: (order.lines.index(item),),
        args,
        "lineItems",
    )


def order_refunds(obj: Obj, info: Any, first: int | None = None) -> list[Obj]:
    order: ShopifyOrder = obj["_raw"]
    refunds = order.refunds if first is None else order.refunds[:first]
    return [render.refund(order, r) for r in refunds]


def _levels(state: SandboxState, rows: list[StockLevel], args: dict[str, Any], field: str) -> Obj:
    order = {loc.code: i for i, loc in enumerate(state.locations())}
    return connection(
        rows,
        lambda s: render.inventory_level(state, s),
        lambda s: (s.sku, order.get(s.location_code, 0)),
        args,
        field,
    )


def item_levels(obj: Obj, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    variant: DemoVariant = obj["_raw"]
    return _levels(state, state.stock_of_item(variant), args, "inventoryLevels")


def item_level(obj: Obj, info: Any, locationId: str) -> Obj | None:
    state = _ctx(info)
    number = _numeric(locationId, "Location")
    loc = state.location(number) if number is not None else None
    if loc is None:
        return None
    row = state.stock(obj["_raw"].sku, loc)
    return render.inventory_level(state, row) if row is not None else None


def location_levels(obj: Obj, info: Any, **args: Any) -> Obj:
    state = _ctx(info)
    return _levels(state, state.stock_at(obj["_raw"]), args, "inventoryLevels")


def location_level(obj: Obj, info: Any, inventoryItemId: str) -> Obj | None:
    state = _ctx(info)
    number = _numeric(inventoryItemId, "InventoryItem")
    variant = state.variant_by_item(number) if number is not None else None
    if variant is None:
        return None
    row = state.stock(variant.sku, obj["_raw"])
    return render.inventory_level(state, row) if row is not None else None


def level_quantities(obj: Obj, info: Any, names: list[str]) -> list[Obj]:
    unknown = [n for n in names if n not in render.QUANTITY_NAMES]
    if unknown:
        raise GraphQLError(f"Invalid quantity names: {', '.join(unknown)}")
    return render.quantities(obj["_raw"], names)


_FIELD_RESOLVERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("QueryRoot", "node"): q_node,
    ("QueryRoot", "nodes"): q_nodes,
    ("QueryRoot", "customer"): _typed("Customer"),
    ("QueryRoot", "order"): _typed("Order"),
    ("QueryRoot", "location"): _typed("Location"),
    ("QueryRoot", "inventoryItem"): _typed("InventoryItem"),
    ("QueryRoot", "inventoryLevel"): _typed("InventoryLevel"),
    ("QueryRoot", "productVariant"): _typed("ProductVariant"),
    ("QueryRoot", "customers"): q_customers,
    ("QueryRoot", "customerByIdentifier"): q_customer_by_identifier,
    ("QueryRoot", "orders"): q_orders,
    ("QueryRoot", "locations"): q_locations,
    ("QueryRoot", "inventoryItems"): q_inventory_items,
    ("QueryRoot", "productVariants"): q_product_variants,
    ("QueryRoot", "shop"): q_shop,
    ("Customer", "orders"): customer_orders,
    ("Customer", "addressesV2"): customer_addresses,
    ("Order", "lineItems"): order_line_items,
    ("Order", "refunds"): order_refunds,
    ("InventoryItem", "inventoryLevels"): item_levels,
    ("InventoryItem", "inventoryLevel"): item_level,
    ("Location", "inventoryLevels"): location_levels,
    ("Location", "inventoryLevel"): location_level,
    ("InventoryLevel", "quantities"): level_quantities,
}


@cache
def executable_schema() -> GraphQLSchema:
    """The sandbox's trimmed schema with its resolvers attached."""
    schema = build_schema(sdl())
    for (type_name, field_name), resolver in _FIELD_RESOLVERS.items():
        owner = schema.get_type(type_name)
        assert isinstance(owner, GraphQLObjectType), type_name
        owner.fields[field_name].resolve = resolver
    for name in ("Node", "LegacyInteroperability"):
        interface = schema.get_type(name)
        interface.resolve_type = _resolve_type  # type: ignore[union-attr]
    return schema


def _resolve_type(value: Any, info: Any, abstract: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None
