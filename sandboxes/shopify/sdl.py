"""The trimmed Admin API schema this sandbox serves: its own copy.

``admin_subset.graphql`` beside this module is cut from Shopify's official 2026-01 SDL by
:mod:`sandboxes.shopify.trim`; the client keeps a copy of its own for costing queries
(``connectors/shopify/admin_subset.graphql``), so a field dropped from one is not silently
dropped from the other. Contract tests check that both are faithful subsets of the official
SDL and that this one is exactly what the trim tool cuts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SDL_PATH = Path(__file__).with_name("admin_subset.graphql")


@cache
def sdl() -> str:
    return SDL_PATH.read_text(encoding="utf-8")
