"""The Square REST v2 endpoints the connector reads, served from the sandbox's world.

Limits are enforced as Square documents them (100 ids per ``BulkRetrieveCustomers``, 10
location ids and 10 customer ids per ``SearchOrders``, page size maxima, E.164 phone search),
answering Square's error body, so a connector that forgets to batch fails here as it would in
production. Route names (``square.<operation>``) are what fault injection can target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from aiohttp import web
from aiohttp.typedefs import Handler

from sandboxes.base.faults import is_control_path
from sandboxes.square import render
from sandboxes.square.state import SquareApiError, SquareSandbox
from sandboxes.square.units import parse_time

JSON = dict[str, Any]

SANDBOX = web.AppKey("square_sandbox", SquareSandbox)

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v2/locations", list_locations, name="square.locations.list"),
        web.post(
            "/v2/customers/bulk-retrieve",
            bulk_retrieve_customers,
            name="square.customers.bulk_retrieve",
        ),
        web.post("/v2/customers/search", search_customers, name="square.customers.search"),
        web.get("/v2/customers/{customer_id}", retrieve_customer, name="square.customers.get"),
        web.post("/v2/orders/search", search_orders, name="square.orders.search"),
        web.post(
            "/v2/orders/batch-retrieve", batch_retrieve_orders, name="square.orders.batch_retrieve"
        ),
        web.get("/v2/orders/{order_id}", retrieve_order, name="square.orders.get"),
        web.post(
            "/v2/catalog/batch-retrieve",
            batch_retrieve_catalog,
            name="square.catalog.batch_retrieve",
        ),
        web.post("/v2/catalog/search", search_catalog, name="square.catalog.search"),
        web.post(
            "/v2/inventory/counts/batch-retrieve",
            batch_retrieve_counts,
            name="square.inventory.batch_retrieve_counts",
        ),
    ]


# --- middleware -----------------------------------------------------------------------------------


@web.middleware
async def square_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authentication and ``Square-Version`` as Square checks them, and Square error bodies
    for refused requests. Control routes are the sandbox's own and need no token."""
    if is_control_path(request.path):
        return await handler(request)
    sandbox = request.app[SANDBOX]
    if request.headers.get("Authorization") != f"Bearer {sandbox.access_token}":
        return SquareApiError(
            401,
            "UNAUTHORIZED",
            "This request could not be authorized.",
            category="AUTHENTICATION_ERROR",
        ).response()
    version = request.headers.get("Square-Version")
    if version is not None:
        if not _VERSION.match(version):
            return SquareApiError(
                400,
                "INVALID_SQUARE_VERSION_FORMAT",
                "Square-Version must look like YYYY-MM-DD.",
                field="Square-Version",
            ).response()
        sandbox.versions_seen[version] += 1
    try:
        return await handler(request)
    except SquareApiError as exc:
        return exc.response()


async def _body(request: web.Request) -> JSON:
    try:
        data = await request.json()
    except ValueError:
        raise SquareApiError(400, "EXPECTED_JSON_BODY", "The body must be JSON.") from None
    if not isinstance(data, dict):
        raise SquareApiError(400, "EXPECTED_OBJECT", "The body must be a JSON object.")
    return data


def _ids(body: Mapping[str, Any], name: str, *, maximum: int, required: bool = True) -> list[str]:
    value = body.get(name)
    if value is None:
        if required:
            raise SquareApiError(
                400, "MISSING_REQUIRED_PARAMETER", f"Missing required parameter {name}.", field=name
            )
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SquareApiError(
            400, "EXPECTED_ARRAY", f"{name} must be an array of strings.", field=name
        )
    if required and not value:
        raise SquareApiError(400, "ARRAY_EMPTY", f"{name} must not be empty.", field=name)
    if len(value) > maximum:
        raise SquareApiError(
            400,
            "ARRAY_LENGTH_TOO_LONG",
            f"{name} has {len(value)} items; at most {maximum} are allowed.",
            field=name,
        )
    return value


def _limit(
    body: Mapping[str, Any], *, default: int, maximum: int, ignore_invalid: bool = False
) -> int:
    value = body.get("limit")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise SquareApiError(400, "EXPECTED_INTEGER", "limit must be an integer.", field="limit")
    if ignore_invalid and not 1 <= value <= maximum:
        return default
    if value < 1:
        raise SquareApiError(400, "VALUE_TOO_LOW", "limit is too low.", field="limit")
    if value > maximum:
        raise SquareApiError(
            400, "VALUE_TOO_HIGH", f"limit must be at most {maximum}.", field="limit"
        )
    return value


# --- locations ------------------------------------------------------------------------------------


async def list_locations(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    return web.json_response(
        {"locations": [sandbox.location_json(loc) for loc in sandbox.square_locations()]}
    )


# --- customers ------------------------------------------------------------------------------------


async def bulk_retrieve_customers(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    ids = _ids(body, "customer_ids", maximum=100)
    responses: JSON = {}
    for customer_id in ids:
        found = sandbox.world.square_customers_by_id.get(customer_id)
        if found is None:
            responses[customer_id] = {
                "errors": [
                    {
                        "category": "INVALID_REQUEST_ERROR",
                        "code": "NOT_FOUND",
                        "detail": f"Customer with ID `{customer_id}` not found.",
                    }
                ]
            }
        else:
            responses[customer_id] = {"customer": render.customer(found)}
    return web.json_response({"responses": responses})


async def retrieve_customer(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    customer_id = request.match_info["customer_id"]
    found = sandbox.world.square_customers_by_id.get(customer_id)
    if found is None:
        raise SquareApiError(404, "NOT_FOUND", f"Customer with ID `{customer_id}` not found.")
    return web.json_response({"customer": render.customer(found)})


async def search_customers(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    limit = _limit(body, default=100, maximum=100)
    query = body.get("query") or {}
    filters = query.get("filter") or {}
    customers = [render.customer(c) for c in sandbox.world.square_customers]
    email = filters.get("email_address")
    if email:
        customers = [c for c in customers if _text_match(c.get("email_address"), email, "email")]
    phone = filters.get("phone_number")
    if phone:
        exact = phone.get("exact")
        if exact is not None:
            wanted = _e164(exact, sandbox.phone_region, strict=True)
            customers = [
                c
                for c in customers
                if _e164(c.get("phone_number"), sandbox.phone_region, strict=False) == wanted
            ]
        else:
            customers = [c for c in customers if _text_match(c.get("phone_number"), phone, "phone")]
    reference = filters.get("reference_id")
    if reference:
        customers = [c for c in customers if _text_match(c.get("reference_id"), reference, "ref")]
    for name in ("created_at", "updated_at"):
        window = filters.get(name)
        if window:
            customers = [c for c in customers if _in_range(c.get(name), window)]
    sort = query.get("sort") or {}
    descending = sort.get("order") == "DESC"
    if sort.get("field") == "CREATED_AT":
        customers.sort(key=lambda c: (c["created_at"], c["id"]), reverse=descending)
    else:
        customers.sort(key=_default_customer_key, reverse=descending)
    page, cursor = sandbox.page(customers, body, limit=limit)
    out: JSON = {"customers": page}
    if cursor:
        out["cursor"] = cursor
    if body.get("count"):
        out["count"] = len(customers)
    return web.json_response(out)


def _default_customer_key(customer: Mapping[str, Any]) -> tuple[str, str]:
    name = f"{customer.get('given_name') or ''}{customer.get('family_name') or ''}"
    fallback = customer.get("company_name") or customer.get("email_address") or ""
    return ((name or fallback or customer.get("phone_number") or "").lower(), customer["id"])


def _text_match(value: object, text_filter: Mapping[str, Any], kind: str) -> bool:
    if not isinstance(value, str):
        return False
    exact, fuzzy = text_filter.get("exact"), text_filter.get("fuzzy")
    if exact is not None and fuzzy is not None:
        raise SquareApiError(400, "INVALID_VALUE", "A text filter is exact or fuzzy, not both.")
    if exact is not None:
        # Square: email matching is case-insensitive.
        return value.lower() == str(exact).lower() if kind == "email" else value == exact
    if fuzzy is not None:
        tokens = re.split(r"[^0-9a-z]+", value.lower())
        return all(any(t.startswith(q) for t in tokens) for q in str(fuzzy).lower().split())
    return True


def _e164(value: object, region: str, *, strict: bool) -> str | None:
    """Square converts stored numbers to E.164 to match an exact phone query, and requires
    the query itself to be E.164-compliant (a leading ``+`` and a country code)."""
    if not isinstance(value, str) or not value:
        if strict:
            raise SquareApiError(
                400, "INVALID_VALUE", "phone must be a string.", field="phone_number"
            )
        return None
    if strict and not value.strip().startswith("+"):
        raise SquareApiError(
            400,
            "INVALID_PHONE_NUMBER",
            "The phone number must be in E.164 form.",
            field="query.filter.phone_number.exact",
        )
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        if strict:
            raise SquareApiError(
                400, "INVALID_PHONE_NUMBER", "The phone number is not valid."
            ) from None
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _in_range(value: object, window: Mapping[str, Any]) -> bool:
    at = parse_time(value)
    if at is None:
        return False
    start, end = parse_time(window.get("start_at")), parse_time(window.get("end_at"))
    return (start is None or at >= start) and (end is None or at <= end)


# --- orders ---------------------------------------------------------------------------------------


_SORT_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "CLOSED_AT": "closed_at"}


async def search_orders(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    location_ids = _ids(body, "location_ids", maximum=10)
    for location_id in location_ids:
        if sandbox.location(location_id) is None:
            raise SquareApiError(400, "INVALID_VALUE", "Unknown location id.", field="location_ids")
    limit = _limit(body, default=500, maximum=1000)
    query = body.get("query") or {}
    filters = query.get("filter") or {}
    customer_ids = _ids(
        filters.get("customer_filter") or {}, "customer_ids", maximum=10, required=False
    )
    states = (filters.get("state_filter") or {}).get("states") or []
    sources = (filters.get("source_filter") or {}).get("source_names") or []
    if len(sources) > 10:
        raise SquareApiError(
            400, "ARRAY_LENGTH_TOO_LONG", "At most 10 source names.", field="source_names"
        )
    sort = query.get("sort") or {}
    sort_field = sort.get("sort_field", "CREATED_AT")
    if sort_field not in _SORT_FIELDS:
        raise SquareApiError(400, "INVALID_ENUM_VALUE", "Unknown sort field.", field="sort_field")
    window_field, window = None, None
    for name, value in (filters.get("date_time_filter") or {}).items():
        if value:
            window_field, window = name, value
    if window_field is not None and _SORT_FIELDS.get(sort_field) != window_field:
        raise SquareApiError(
            400,
            "INVALID_VALUE",
            "The sort field must match the date time filter field.",
            field="sort_field",
        )
    wanted_locations = set(location_ids)
    world = sandbox.world
    if customer_ids:
        candidates = [o for c in customer_ids for o in world.square_orders_by_customer.get(c, [])]
    else:
        candidates = list(world.square_orders)
    orders: list[JSON] = []
    for value in candidates:
        if value.location_id not in wanted_locations:
            continue
        orders.append(render.order(value, world))
        for refund in value.refunds:
            returned = render.return_order(value, refund)
            if returned is not None:
                orders.append(returned)
    if states:
        orders = [o for o in orders if o.get("state") in states]
    if sources:
        orders = [o for o in orders if (o.get("source") or {}).get("name") in sources]
    if window is not None and window_field is not None:
        orders = [o for o in orders if _in_range(o.get(window_field), window)]
    key = _SORT_FIELDS[sort_field]
    orders.sort(
        key=lambda o: (o.get(key) or "", o["id"]), reverse=sort.get("sort_order", "DESC") != "ASC"
    )
    page, cursor = sandbox.page(orders, body, limit=limit)
    if body.get("return_entries"):
        out: JSON = {
            "order_entries": [
                {"order_id": o["id"], "version": o["version"], "location_id": o["location_id"]}
                for o in page
            ]
        }
    else:
        out = {"orders": page}
    if cursor:
        out["cursor"] = cursor
    return web.json_response(out)


def _find_order(sandbox: SquareSandbox, order_id: str) -> JSON | None:
    world = sandbox.world
    value = world.square_orders_by_id.get(order_id)
    if value is not None:
        return render.order(value, world)
    for sale in world.square_orders:
        for refund in sale.refunds:
            if render.return_order_id(refund) == order_id:
                return render.return_order(sale, refund)
    return None


async def batch_retrieve_orders(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    ids = _ids(body, "order_ids", maximum=100)
    orders = [found for i in ids if (found := _find_order(sandbox, i)) is not None]
    location_id = body.get("location_id")
    if location_id:
        orders = [o for o in orders if o["location_id"] == location_id]
    return web.json_response({"orders": orders})


async def retrieve_order(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    order_id = request.match_info["order_id"]
    found = _find_order(sandbox, order_id)
    if found is None:
        raise SquareApiError(404, "NOT_FOUND", f"Order `{order_id}` not found.")
    return web.json_response({"order": found})


# --- catalog --------------------------------------------------------------------------------------


def _catalog_objects(sandbox: SquareSandbox) -> list[JSON]:
    """Every catalog item, its variations nested as Square returns them."""
    currency = sandbox.world.currency
    return [render.item(p, currency) for p in sandbox.world.products]


def _variations(sandbox: SquareSandbox) -> list[JSON]:
    return [v for item in _catalog_objects(sandbox) for v in item["item_data"]["variations"]]


async def batch_retrieve_catalog(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    ids = _ids(body, "object_ids", maximum=1000)
    wanted = set(ids)
    objects = [
        obj for obj in [*_catalog_objects(sandbox), *_variations(sandbox)] if obj["id"] in wanted
    ]
    return web.json_response({"objects": objects})


async def search_catalog(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    limit = _limit(body, default=100, maximum=1000, ignore_invalid=True)
    types = body.get("object_types") or ["ITEM"]
    objects: list[JSON] = []
    if "ITEM" in types:
        objects.extend(_catalog_objects(sandbox))
    if "ITEM_VARIATION" in types:
        objects.extend(_variations(sandbox))
    query = body.get("query") or {}
    set_query = query.get("set_query")
    if set_query:
        values = set_query.get("attribute_values") or []
        if len(values) > 250:
            raise SquareApiError(
                400, "ARRAY_LENGTH_TOO_LONG", "At most 250 values.", field="attribute_values"
            )
        name = set_query.get("attribute_name")
        wanted = {str(v).lower() for v in values}
        objects = [o for o in objects if (_attribute(o, name) or "").lower() in wanted]
    exact = query.get("exact_query")
    if exact:
        name, value = exact.get("attribute_name"), str(exact.get("attribute_value", "")).lower()
        objects = [o for o in objects if value in (_attribute(o, name) or "").lower()]
    objects.sort(key=lambda o: o["id"])
    page, cursor = sandbox.page(objects, body, limit=limit)
    out: JSON = {"objects": page}
    if cursor:
        out["cursor"] = cursor
    return web.json_response(out)


def _attribute(obj: Mapping[str, Any], name: object) -> str | None:
    data = obj.get("item_variation_data") or obj.get("item_data") or {}
    value = data.get(name) if isinstance(name, str) else None
    return value if isinstance(value, str) else None


# --- inventory ------------------------------------------------------------------------------------


async def batch_retrieve_counts(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    limit = _limit(body, default=1000, maximum=1000)
    ids = _ids(body, "catalog_object_ids", maximum=1000, required=False)
    location_ids = _ids(body, "location_ids", maximum=1000, required=False)
    states = body.get("states") or []
    updated_after = parse_time(body.get("updated_after"))
    world = sandbox.world
    counts: list[JSON] = []
    wanted_ids = set(ids)
    wanted_locations = set(location_ids)
    for loc in sandbox.square_locations():
        assert loc.square_location_id is not None
        if wanted_locations and loc.square_location_id not in wanted_locations:
            continue
        for variant in world.variants:
            if wanted_ids and variant.square_variation_id not in wanted_ids:
                continue
            level = world.stock_level(variant.sku, loc.code)
            if level is None:
                continue
            if updated_after is not None and level.updated_at <= updated_after:
                continue
            counts.append(render.inventory_count(level, variant, loc.square_location_id))
    if states:
        counts = [c for c in counts if c["state"] in states]
    # Square: newest calculated_at first.
    counts.sort(
        key=lambda c: (c["calculated_at"], c["catalog_object_id"], c["location_id"]), reverse=True
    )
    page, cursor = sandbox.page(counts, body, limit=limit)
    out: JSON = {"counts": page}
    if cursor:
        out["cursor"] = cursor
    return web.json_response(out)
