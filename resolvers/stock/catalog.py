"""The one SKU <-> vendor id map: built from every :class:`CatalogSource`, kept in the store.

Stock is keyed by SKU; Shopify's inventory webhooks name an inventory item, Square's counts
an item variation. :func:`refresh_catalog` reads every source's variants in bulk (pages as
large as each vendor allows, the sources side by side), joins them on the SKU and writes the
result in batches to the catalog port, which ``productVariants`` then serves without calling
a vendor. It runs at start-up and again on a schedule; entries a complete refresh no longer
finds are removed, while a refresh that missed a source keeps that source's ids as they were.

Connectors that parse vendor ids into SKUs (a Shopify inventory webhook names an inventory
item, a Square count a variation) are handed this map after every refresh
(:class:`~connectors.capabilities.SkuMapConsumer`), so the join is built once, here, and
they read it synchronously while parsing. What a connector learns from its own reads between
refreshes (a new item a webhook named) it keeps until the next refresh brings it in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from connectors import vendors as registry
from connectors.capabilities import CatalogSource, SkuMapConsumer
from connectors.errors import UpstreamError
from connectors.records import CatalogVariant
from connectors.registry import ConnectorSet
from resolvers.store import Store
from resolvers.store.catalog import CatalogEntry, ref_kind

log = logging.getLogger("omnigate.catalog")

#: Entries per bulk write.
WRITE_BATCH = 500


class CatalogServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def connectors(self) -> ConnectorSet: ...


@dataclass(frozen=True, slots=True)
class CatalogRefresh:
    """What one refresh did: SKUs found, entries written new or changed, entries removed,
    and the sources that could not be read (their ids were kept, nothing was removed)."""

    skus: int
    changed: int
    removed: int
    failed_sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return not self.failed_sources


def now_ms() -> datetime:
    """Now, at the store's millisecond precision (so ``seen_at`` compares as stored)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def join(variants: Iterable[CatalogVariant], seen_at: datetime) -> dict[str, CatalogEntry]:
    """One entry per SKU. ``variants`` come in source precedence order (names first from the
    source that ranks first): the first title, price and currency found win; refs are the
    union, each named ``<source>.<kind>``. A price without a currency takes the currency of
    another source's price for the SKU, if any names one."""
    entries: dict[str, CatalogEntry] = {}
    for v in variants:
        refs = {ref_kind(v.source.value, kind): id_ for kind, id_ in v.refs.items()}
        found = entries.get(v.sku)
        if found is None:
            entries[v.sku] = CatalogEntry(
                sku=v.sku,
                title=v.title,
                seen_at=seen_at,
                refs=refs,
                price=v.price,
                currency=v.currency,
            )
            continue
        entries[v.sku] = replace(
            found,
            title=found.title or v.title,
            refs={**refs, **found.refs},
            price=found.price if found.price is not None else v.price,
            currency=found.currency or v.currency,
        )
    return entries


def hand_over(connectors: ConnectorSet, entries: Iterable[CatalogEntry]) -> None:
    """Give each :class:`SkuMapConsumer` its own ids of the map: kind -> id -> SKU."""
    consumers = connectors.of(SkuMapConsumer)
    if not consumers:
        return
    by_source: dict[str, dict[str, dict[str, str]]] = {}
    for entry in entries:
        for key, id_ in entry.refs.items():
            source, _, kind = key.partition(".")
            by_source.setdefault(source, {}).setdefault(kind, {})[id_] = entry.sku
    for consumer in consumers:
        known = consumer.adopt_sku_map(by_source.get(consumer.source.value, {}))
        log.debug("%s resolves %d ids to SKUs from the catalog map", consumer.source, known)


async def _read(source: CatalogSource) -> list[CatalogVariant]:
    found: list[CatalogVariant] = []
    async for page in source.list_variants():
        found.extend(page)
    return found


async def refresh_catalog(
    services: CatalogServices, *, now: datetime | None = None
) -> CatalogRefresh:
    """Rebuild the catalog map from every catalog source (see the module docstring).
    ``now`` (default: the clock, in milliseconds) stamps what this refresh found; entries
    stamped earlier are removed by a complete refresh."""
    started = now or now_ms()
    precedence = registry.name_precedence()
    sources = sorted(
        services.connectors.of(CatalogSource),
        key=lambda c: precedence.get(c.source, registry.LAST),
    )
    results = await asyncio.gather(*(_read(s) for s in sources), return_exceptions=True)
    variants: list[CatalogVariant] = []
    failed: list[str] = []
    for source, result in zip(sources, results, strict=True):
        if isinstance(result, UpstreamError):
            log.warning("catalog of %s not read: %s", source.source, result)
            failed.append(source.source.value)
            continue
        if isinstance(result, BaseException):
            raise result
        variants.extend(result)
    entries = join(variants, started)
    catalog = services.store.catalog
    if failed:
        entries = await _keep_refs(catalog_entries=entries, store=services.store, failed=failed)
    changed = 0
    batch: list[CatalogEntry] = list(entries.values())
    for start in range(0, len(batch), WRITE_BATCH):
        changed += await catalog.put_entries(batch[start : start + WRITE_BATCH])
    removed = 0 if failed else await catalog.remove_unseen(started)
    hand_over(services.connectors, entries.values())
    summary = CatalogRefresh(
        skus=len(entries), changed=changed, removed=removed, failed_sources=tuple(failed)
    )
    log.info(
        "catalog refreshed: %d SKUs, %d new or changed, %d removed%s",
        summary.skus,
        summary.changed,
        summary.removed,
        f", not read: {', '.join(failed)}" if failed else "",
    )
    return summary


async def _keep_refs(
    *, catalog_entries: dict[str, CatalogEntry], store: Store, failed: Sequence[str]
) -> dict[str, CatalogEntry]:
    """The ids of sources that could not be read, kept from the stored entries."""
    prefixes = tuple(ref_kind(name, "") for name in failed)
    skus = list(catalog_entries)
    stored: dict[str, CatalogEntry] = {}
    for start in range(0, len(skus), WRITE_BATCH):
        for entry in await store.catalog.get_entries(skus[start : start + WRITE_BATCH]):
            stored[entry.sku] = entry
    kept: dict[str, CatalogEntry] = {}
    for sku, entry in catalog_entries.items():
        old = stored.get(sku)
        extra = {k: v for k, v in (old.refs if old else {}).items() if k.startswith(prefixes)}
        kept[sku] = replace(entry, refs={**extra, **entry.refs}) if extra else entry
    return kept
