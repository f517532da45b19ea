"""The trimmed Admin API schema the client costs its queries against.

``admin_subset.graphql`` is cut from Shopify's official 2026-01 SDL (by the sandbox's trim
tool, ``python -m sandboxes.shopify.trim ... --output connectors/shopify/admin_subset.graphql``).
The client uses it to compute a query's requested cost before sending it, as Shopify will.
The sandbox serves a copy of its own, so a field missing here is not missing there too;
contract tests hold both copies to the official SDL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SUBSET_SDL_PATH = Path(__file__).with_name("admin_subset.graphql")


@cache
def subset_sdl() -> str:
    return SUBSET_SDL_PATH.read_text(encoding="utf-8")


@cache
def subset_schema() -> GraphQLSchema:
    """Built once per process: the schema is immutable and building it takes a few ms."""
    return build_schema(subset_sdl())
