"""The exported SDLs in docs/ must match the code: the plain one (for codegen) a valid schema
with nothing of federation in it, the subgraph one a Federation 2 subgraph with its
entities."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema as parse_schema
from graphql import validate_schema

from schema.build import build_schema, export_sdl

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_exported_sdls_are_current() -> None:
    stale = "is stale: run `make docs`"
    assert (DOCS / "schema.graphql").read_text() == export_sdl(), f"schema.graphql {stale}"
    federation = (DOCS / "schema.federation.graphql").read_text()
    assert federation == export_sdl(federation=True), f"schema.federation.graphql {stale}"


def test_the_subgraph_sdl_declares_the_entities() -> None:
    sdl = export_sdl(federation=True)
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl
    for entity in ('Customer @key(fields: "id")', 'Location @key(fields: "id")'):
        assert f"type {entity}" in sdl
    assert 'type ProductVariant @key(fields: "sku")' in sdl
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl


def test_the_plain_sdl_is_the_api_without_federation() -> None:
    sdl = export_sdl()
    for router_only in ("@link", "@key", "_entities", "_service", "_Any", "_Entity"):
        assert router_only not in sdl
    plain = parse_schema(sdl)
    assert validate_schema(plain) == []
    subgraph = build_schema()._schema
    # Federation's own types (`_Any`, `_Service`, `link__Import`, ...) are the router's.
    public = {n for n in subgraph.type_map if not n.startswith("_") and "__" not in n}
    assert {n for n in plain.type_map if not n.startswith("_")} == public
    query = subgraph.query_type
    assert query is not None
    assert plain.query_type is not None
    assert set(plain.query_type.fields) == {f for f in query.fields if not f.startswith("_")}


def test_schema_is_valid_and_leaks_no_permission_directives() -> None:
    sdl = export_sdl()
    assert "@isAuthenticated" not in sdl
    assert "@hasRole" not in sdl
    assert validate_schema(build_schema()._schema) == []
