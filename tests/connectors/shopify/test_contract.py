"""Contract tests: our documents against Shopify's official 2026-01 schema, and both trimmed
schemas (the client's, which it costs queries against, and the sandbox's own, which it serves)
against the official one. These run in CI wherever ``../shared/specs`` exists."""

from __future__ import annotations

import pytest
from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    parse,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule, specified_rules

from connectors.shopify.queries import DOCUMENTS
from connectors.shopify.schema import subset_schema
from sandboxes.shopify.sdl import sdl as sandbox_sdl
from sandboxes.shopify.trim import trim

BUILTIN = {"String", "Int", "Float", "Boolean", "ID"}

#: The two trimmed copies of the Admin schema, each owned by one side of the wire.
TRIMMED = {"client": subset_schema, "sandbox": lambda: build_schema(sandbox_sdl())}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_connector_document_validates_against_the_official_sdl(
    official_schema: GraphQLSchema, name: str
) -> None:
    document = parse(DOCUMENTS[name])
    errors = validate(official_schema, document, [*specified_rules, NoDeprecatedCustomRule])
    assert errors == [], f"{name}: {[e.message for e in errors]}"


@pytest.mark.parametrize("copy", sorted(TRIMMED))
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_connector_document_validates_against_both_trimmed_sdls(name: str, copy: str) -> None:
    errors = validate(TRIMMED[copy](), parse(DOCUMENTS[name]))
    assert errors == [], f"{name}: {[e.message for e in errors]}"


def test_the_contract_check_would_catch_a_deprecated_or_unknown_field(
    official_schema: GraphQLSchema,
) -> None:
    """Guards the test above: a document using ``Customer.email`` (deprecated in 2026-01) or
    a field that does not exist must fail the same validation."""
    deprecated = parse("query { customer(id: 1) { email } }")
    unknown = parse("query { customer(id: 1) { favouriteStore } }")
    rules = [*specified_rules, NoDeprecatedCustomRule]
    assert validate(official_schema, deprecated, rules)
    assert validate(official_schema, unknown, rules)


@pytest.mark.parametrize("copy", sorted(TRIMMED))
def test_each_trimmed_sdl_is_a_faithful_subset_of_the_official_sdl(
    official_schema: GraphQLSchema, copy: str
) -> None:
    ours = TRIMMED[copy]()
    mismatches: list[str] = []
    checked_fields = 0
    for name, ours_type in ours.type_map.items():
        if name.startswith("__") or name in BUILTIN:
            continue
        theirs = official_schema.type_map.get(name)
        if theirs is None:
            mismatches.append(f"type {name} does not exist")
            continue
        if type(theirs) is not type(ours_type):
            mismatches.append(f"{name} is a {type(theirs).__name__} there")
            continue
        if isinstance(ours_type, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType)
            their_interfaces = {i.name for i in theirs.interfaces}
            for interface in ours_type.interfaces:
                if interface.name not in their_interfaces:
                    mismatches.append(f"{name} does not implement {interface.name}")
            for field_name, field in ours_type.fields.items():
                checked_fields += 1
                other = theirs.fields.get(field_name)
                if other is None:
                    mismatches.append(f"{name}.{field_name} does not exist")
                    continue
                if str(field.type) != str(other.type):
                    mismatches.append(f"{name}.{field_name}: {field.type} vs {other.type}")
                if other.deprecation_reason:
                    mismatches.append(f"{name}.{field_name} is deprecated there")
                for arg_name, arg in field.args.items():
                    other_arg = other.args.get(arg_name)
                    if other_arg is None:
                        mismatches.append(f"{name}.{field_name}({arg_name}) does not exist")
                    elif str(arg.type) != str(other_arg.type):
                        mismatches.append(
                            f"{name}.{field_name}({arg_name}): {arg.type} vs {other_arg.type}"
                        )
                    elif arg.default_value != other_arg.default_value:
                        mismatches.append(f"{name}.{field_name}({arg_name}) default differs")
                required = {
                    a
                    for a, v in other.args.items()
                    if v.type.__class__.__name__ == "GraphQLNonNull"
                }
                if not required <= set(field.args):
                    mismatches.append(f"{name}.{field_name} drops a required argument")
        elif isinstance(ours_type, GraphQLEnumType):
            assert isinstance(theirs, GraphQLEnumType)
            extra = set(ours_type.values) - set(theirs.values)
            if extra:
                mismatches.append(f"enum {name} has extra values {sorted(extra)}")
        elif isinstance(ours_type, GraphQLInputObjectType):
            assert isinstance(theirs, GraphQLInputObjectType)
            for field_name, input_field in ours_type.fields.items():
                other_input = theirs.fields.get(field_name)
                if other_input is None or str(other_input.type) != str(input_field.type):
                    mismatches.append(f"input {name}.{field_name} differs")
        elif isinstance(ours_type, GraphQLUnionType):
            assert isinstance(theirs, GraphQLUnionType)
            if {t.name for t in ours_type.types} - {t.name for t in theirs.types}:
                mismatches.append(f"union {name} has extra members")
        else:
            assert isinstance(ours_type, GraphQLScalarType)
    assert ours.query_type is not None
    assert official_schema.query_type is not None
    assert ours.query_type.name == official_schema.query_type.name
    assert mismatches == []
    assert checked_fields > 100  # the comparison really walked the schema


def test_sandbox_sdl_is_what_the_trim_tool_cuts_from_the_official_sdl(
    official_document: DocumentNode,
) -> None:
    """The sandbox's checked-in file is generated, never hand-edited."""
    assert trim(official_document) == sandbox_sdl()
