"""The catalog port: one entry per SKU, joining every vendor's id for it.

Stock is keyed by SKU; Shopify names a variant and an inventory item, Square an item
variation. This is the one map between them (built by
:func:`resolvers.stock.catalog.refresh_catalog`), and what ``productVariants`` pages through:
a prefix of the SKU or of the lower-cased title, in SKU order, with keyset pagination (a
page starts after the last SKU of the one before, so a page never skips or repeats an entry
when others are added meanwhile).

The record lives here, beside its port, rather than in :mod:`resolvers.model`: nothing but
this port and the catalog logic reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


def ref_kind(source: str, kind: str) -> str:
    """The ``refs`` key of one source's kind of id, e.g. ``shopify.inventory_item`` or
    ``square.variation`` (the kinds are each connector's own, see ``CatalogVariant``)."""
    return f"{source}.{kind}"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One SKU across the sources. ``refs`` maps ``"<source>.<kind>"`` (:func:`ref_kind`)
    to the vendor's id; ``seen_at`` is when a refresh last found it upstream."""

    sku: str
    title: str
    seen_at: datetime
    refs: dict[str, str] = field(default_factory=dict)
    price: Decimal | None = None
    currency: str | None = None

    @property
    def search_keys(self) -> tuple[str, str]:
        """What a prefix is matched against: the SKU and the title, lower-cased."""
        return self.sku.lower(), self.title.lower()


class CatalogStore(Protocol):
    async def put_entries(self, entries: Sequence[CatalogEntry]) -> int:
        """Insert or replace the entries by SKU, in bulk. Returns how many were new or
        changed (an entry stored as it is counts as unchanged, though its ``seen_at`` moves)."""
        ...

    async def get_entries(self, skus: Sequence[str]) -> list[CatalogEntry]:
        """The entries of the SKUs that exist (exact SKUs), in SKU order."""
        ...

    async def search_entries(
        self, prefix: str | None = None, *, after: str | None = None, limit: int = 50
    ) -> list[CatalogEntry]:
        """Entries whose SKU or title starts with ``prefix`` (case-insensitive; every entry
        without one), in SKU order, starting after the SKU ``after``; at most ``limit``."""
        ...

    async def skus_for_refs(self, kind: str, ids: Sequence[str]) -> dict[str, str]:
        """Vendor id (of ``kind``, a :func:`ref_kind` such as ``square.variation``) -> SKU,
        for those known."""
        ...

    async def remove_unseen(self, before: datetime) -> int:
        """Delete the entries no refresh has found since ``before`` (gone upstream); returns
        how many."""
        ...

    async def count_entries(self) -> int: ...
