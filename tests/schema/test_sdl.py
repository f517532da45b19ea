"""The exported SDL in docs/ must match the code, and the schema must be a valid
Federation 2 subgraph with ``Customer`` as an entity."""

from __future__ import annotations

from pathlib import Path

from graphql import validate_schema

from schema.build import build_schema, export_sdl

EXPORTED = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def test_exported_sdl_is_current() -> None:
    assert EXPORTED.read_text() == export_sdl(), "docs/schema.graphql is stale: run `make docs`"


def test_customer_is_a_federation_entity() -> None:
    sdl = export_sdl()
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl
    assert 'type Customer @key(fields: "id")' in sdl


def test_schema_is_valid_and_leaks_no_permission_directives() -> None:
    sdl = export_sdl()
    assert "@isAuthenticated" not in sdl
    assert "@hasRole" not in sdl
    assert validate_schema(build_schema()._schema) == []
