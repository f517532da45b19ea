"""Shopify ids as Omnigate uses them.

Record ids are the Admin API's global ids (``gid://shopify/Customer/123``): that is what
``nodes(ids:)`` takes and what every GraphQL answer carries, so nothing is converted on the hot
path. Webhook bodies carry the numeric id (and, usually, ``admin_graphql_api_id``); they are
turned into the same global ids so that an event and a read name a record identically.

Locations are the exception: the unified location id ``shopify:<numeric id>`` is used in every
record (``LocationRecord.id``, ``OrderRecord.location_id``, ``InventoryLevel.location_id``),
because other connectors (Square's location map) and staff tokens point at store locations by
that stable, vendor-prefixed name.
"""

from __future__ import annotations

LOCATION_PREFIX = "shopify:"
_GID_PREFIX = "gid://shopify/"


def gid(kind: str, value: str | int) -> str:
    """The global id of a ``kind`` record; an id that already is a global id is kept."""
    text = str(value).strip()
    if text.startswith(_GID_PREFIX):
        return text
    return f"{_GID_PREFIX}{kind}/{text}"


def numeric_id(value: str | int) -> str:
    """The numeric part of a global id (query strings such as ``customer_id:123`` need it).

    ``gid://shopify/InventoryLevel/1?inventory_item_id=2`` yields ``1``.
    """
    text = str(value).strip()
    if text.startswith(_GID_PREFIX):
        text = text.rsplit("/", 1)[-1]
    return text.split("?", 1)[0]


def gid_kind(value: str) -> str | None:
    """``Customer`` for ``gid://shopify/Customer/1``; ``None`` for anything else."""
    if not value.startswith(_GID_PREFIX):
        return None
    parts = value[len(_GID_PREFIX) :].split("/")
    return parts[0] if len(parts) == 2 else None


def location_id(value: str | int) -> str:
    """The unified location id for a Shopify location (numeric id or global id)."""
    text = str(value).strip()
    if text.startswith(LOCATION_PREFIX):
        return text
    return f"{LOCATION_PREFIX}{numeric_id(text)}"


def location_gid(unified: str) -> str:
    """The Shopify global id behind a unified location id (or a global id, kept as is)."""
    text = unified.strip()
    if text.startswith(LOCATION_PREFIX):
        text = text[len(LOCATION_PREFIX) :]
    return gid("Location", text)
