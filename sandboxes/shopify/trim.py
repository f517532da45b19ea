"""Regenerate the trimmed Admin API SDL from Shopify's official one.

The sandbox serves a subset of the official 2026-01 schema. Writing that subset by hand
would invite drift, so it is cut mechanically out of the official SDL: the kept object types
keep only the fields listed in :data:`KEEP`, with their official arguments, argument types,
defaults and return types unchanged; every enum, scalar and input type those fields need is
copied whole. Descriptions are dropped to keep the file small.

Run ``python -m sandboxes.shopify.trim <official.graphql>`` after changing :data:`KEEP`; it
writes the sandbox's copy (``sandboxes/shopify/admin_subset.graphql``), and the contract tests
check it is exactly this cut. The client costs its queries against a copy of its own
(``connectors/shopify/admin_subset.graphql``), held to the official SDL by its own contract
test; ``--output connectors/shopify/admin_subset.graphql`` writes the same cut there when the
client needs a field the sandbox gained.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    parse,
    print_ast,
)

from sandboxes.shopify.sdl import SDL_PATH

#: Object and interface types served, and the fields kept on each.
KEEP: dict[str, tuple[str, ...]] = {
    "QueryRoot": (
        "customer", "customerByIdentifier", "customers", "inventoryItem", "inventoryItems",
        "inventoryLevel", "location", "locations", "node", "nodes", "order", "orders",
        "productVariant", "productVariants", "shop",
    ),
    "Node": ("id",),
    "LegacyInteroperability": ("legacyResourceId",),
    "PageInfo": ("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"),
    "Customer": (
        "addressesV2", "amountSpent", "createdAt", "defaultAddress", "defaultEmailAddress",
        "defaultPhoneNumber", "displayName", "firstName", "id", "lastName", "legacyResourceId",
        "note", "numberOfOrders", "orders", "state", "tags", "updatedAt", "verifiedEmail",
    ),
    "CustomerConnection": ("edges", "nodes", "pageInfo"),
    "CustomerEdge": ("cursor", "node"),
    "CustomerEmailAddress": (
        "emailAddress", "marketingOptInLevel", "marketingState", "marketingUpdatedAt",
        "validFormat",
    ),
    "CustomerPhoneNumber": (
        "marketingCollectedFrom", "marketingOptInLevel", "marketingState",
        "marketingUpdatedAt", "phoneNumber",
    ),
    "MailingAddress": (
        "address1", "address2", "city", "company", "country", "countryCodeV2", "firstName",
        "id", "lastName", "latitude", "longitude", "name", "phone", "province", "provinceCode",
        "zip",
    ),
    "MailingAddressConnection": ("edges", "nodes", "pageInfo"),
    "MailingAddressEdge": ("cursor", "node"),
    "Order": (
        "cancelledAt", "closed", "createdAt", "currencyCode", "currentTotalPriceSet",
        "displayFinancialStatus",
        "customer", "email", "id", "legacyResourceId", "lineItems", "name", "note", "phone",
        "processedAt", "refunds", "retailLocation", "sourceIdentifier", "sourceName",
        "subtotalPriceSet", "tags", "test", "totalPriceSet", "totalRefundedSet", "updatedAt",
        "discountCodes",
    ),
    "OrderConnection": ("edges", "nodes", "pageInfo"),
    "OrderEdge": ("cursor", "node"),
    "LineItem": (
        "currentQuantity", "id", "name", "originalUnitPriceSet", "quantity",
        "refundableQuantity", "sku", "title", "variant", "variantTitle",
    ),
    "LineItemConnection": ("edges", "nodes", "pageInfo"),
    "LineItemEdge": ("cursor", "node"),
    "Refund": ("createdAt", "id", "legacyResourceId", "note", "totalRefundedSet", "updatedAt"),
    "MoneyBag": ("presentmentMoney", "shopMoney"),
    "MoneyV2": ("amount", "currencyCode"),
    "Location": (
        "address", "createdAt", "deactivatedAt", "fulfillsOnlineOrders", "hasActiveInventory",
        "id", "inventoryLevel", "inventoryLevels", "isActive", "legacyResourceId",
        "localPickupSettingsV2", "name", "shipsInventory", "updatedAt",
    ),
    "LocationAddress": (
        "address1", "address2", "city", "country", "countryCode", "formatted", "latitude",
        "longitude", "phone", "province", "provinceCode", "zip",
    ),
    "LocationConnection": ("edges", "nodes", "pageInfo"),
    "LocationEdge": ("cursor", "node"),
    "DeliveryLocalPickupSettings": ("instructions", "pickupTime"),
    "InventoryItem": (
        "createdAt", "id", "inventoryLevel", "inventoryLevels", "legacyResourceId", "sku",
        "tracked", "updatedAt",
    ),
    "InventoryItemConnection": ("edges", "nodes", "pageInfo"),
    "InventoryItemEdge": ("cursor", "node"),
    "InventoryLevel": ("createdAt", "id", "item", "location", "quantities", "updatedAt"),
    "InventoryLevelConnection": ("edges", "nodes", "pageInfo"),
    "InventoryLevelEdge": ("cursor", "node"),
    "InventoryQuantity": ("id", "name", "quantity", "updatedAt"),
    "ProductVariant": (
        "createdAt", "displayName", "id", "inventoryItem", "legacyResourceId", "price", "sku",
        "title", "updatedAt",
    ),
    "ProductVariantConnection": ("edges", "nodes", "pageInfo"),
    "ProductVariantEdge": ("cursor", "node"),
    "Shop": ("currencyCode", "id"),
}  # fmt: skip

HEADER = """\
# Trimmed Shopify Admin GraphQL API schema, version 2026-01.
# A faithful subset of Shopify's official SDL (Shopify/bluejay
# data/admin_schema_2026-01_public.graphql): every type, field, argument and type reference
# below is copied unchanged. Generated by sandboxes/shopify/trim.py; do not edit.
"""


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, NonNullTypeNode | ListTypeNode):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


def _strip(node: Any, **changes: Any) -> Any:
    """A copy of an AST node without its description (and with ``changes``)."""
    if "description" in {f.name for f in dataclasses.fields(node)}:
        changes.setdefault("description", None)
    return dataclasses.replace(node, **changes)


def trim(official: str | DocumentNode) -> str:
    """The trimmed SDL from the official one (text, or an already parsed document)."""
    document = parse(official, no_location=True) if isinstance(official, str) else official
    definitions: dict[str, Any] = {
        d.name.value: d
        for d in document.definitions
        if isinstance(d, TypeDefinitionNode | DirectiveDefinitionNode)
    }
    out: dict[str, Any] = {}
    pending: list[str] = []

    def need(name: str) -> None:
        if name not in out and name not in pending and name not in _BUILTIN_SCALARS:
            pending.append(name)

    for type_name, field_names in KEEP.items():
        node = definitions[type_name]
        assert isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode)
        by_name = {f.name.value: f for f in node.fields or ()}
        fields: list[FieldDefinitionNode] = []
        for name in field_names:
            field = by_name[name]
            if any(d.name.value == "deprecated" for d in field.directives or ()):
                raise ValueError(f"{type_name}.{name} is deprecated in the official schema")
            fields.append(_strip(field, arguments=tuple(_strip(a) for a in field.arguments or ())))
            returned = _named(field.type)
            if returned not in KEEP:
                need(returned)
            for argument in field.arguments or ():
                need(_named(argument.type))
        interfaces = tuple(i for i in node.interfaces or () if i.name.value in KEEP)
        out[type_name] = _strip(node, fields=tuple(fields), interfaces=interfaces)

    while pending:
        name = pending.pop()
        node = definitions[name]
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            raise ValueError(f"{name} is returned by a kept field but is not in KEEP")
        if isinstance(node, InputObjectTypeDefinitionNode):
            fields_in = tuple(_strip(f) for f in node.fields or ())
            for field in fields_in:
                need(_named(field.type))
            out[name] = _strip(node, fields=fields_in)
        elif isinstance(node, EnumTypeDefinitionNode):
            out[name] = _strip(node, values=tuple(_strip(v) for v in node.values or ()))
        elif isinstance(node, ScalarTypeDefinitionNode):
            out[name] = _strip(node)
        else:  # pragma: no cover - unions are not used by the kept fields
            raise ValueError(f"unsupported kind for {name}")

    schema = SchemaDefinitionNode(
        directives=(),
        operation_types=tuple(
            op
            for d in document.definitions
            if isinstance(d, SchemaDefinitionNode)
            for op in d.operation_types
            if op.operation.value == "query"
        ),
    )
    used = {name for node in out.values() for name in _directive_names(node)}
    directives = [
        _strip(d, arguments=tuple(_strip(a) for a in d.arguments or ()))
        for d in document.definitions
        if isinstance(d, DirectiveDefinitionNode) and d.name.value in used
    ]
    ordered = [schema, *directives, *(out[name] for name in sorted(out))]
    return HEADER + "\n" + print_ast(DocumentNode(definitions=tuple(ordered))) + "\n"


def _directive_names(node: Any) -> set[str]:
    """Names of the directives applied anywhere inside a (stripped) definition node."""
    names = {d.name.value for d in getattr(node, "directives", None) or ()}
    for child_key in ("fields", "values", "arguments"):
        for child in getattr(node, child_key, None) or ():
            names |= _directive_names(child)
    return names


_BUILTIN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.shopify.trim")
    parser.add_argument("official", type=Path, help="Shopify's admin_2026-01.graphql")
    parser.add_argument("--output", type=Path, default=SDL_PATH, help="default: %(default)s")
    args = parser.parse_args(argv[1:])
    args.output.write_text(trim(args.official.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
