"""The catalog in memory: a dict by SKU and sorted keys searched with :mod:`bisect`, so a
prefix search costs O(log n + matches), as the MongoDB indexes do."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from gateway.store.timeutil import to_utc
from resolvers.store.catalog import CatalogEntry

#: Past every character a key may hold: ``prefix + END`` bounds a prefix range.
END = "\U0010ffff"


class SortedKeys:
    """Sorted ``(key, sku)`` pairs; :meth:`prefixed` yields the SKUs whose key starts with a
    prefix."""

    def __init__(self) -> None:
        self._pairs: list[tuple[str, str]] = []

    def add(self, key: str, sku: str) -> None:
        insort(self._pairs, (key, sku))

    def remove(self, key: str, sku: str) -> None:
        i = bisect_left(self._pairs, (key, sku))
        if i < len(self._pairs) and self._pairs[i] == (key, sku):
            del self._pairs[i]

    def prefixed(self, prefix: str) -> Iterable[str]:
        start = bisect_left(self._pairs, (prefix, ""))
        stop = bisect_right(self._pairs, (prefix + END, ""))
        return (sku for _, sku in self._pairs[start:stop])


class MemoryCatalog:
    """The :class:`~resolvers.store.catalog.CatalogStore` of the memory store."""

    def __init__(self) -> None:
        self._entries: dict[str, CatalogEntry] = {}
        self._skus: list[str] = []
        self._sku_keys = SortedKeys()
        self._title_keys = SortedKeys()
        self._refs: dict[tuple[str, str], str] = {}

    async def put_entries(self, entries: Sequence[CatalogEntry]) -> int:
        changed = 0
        for entry in entries:
            entry = replace(entry, refs=dict(entry.refs), seen_at=to_utc(entry.seen_at))
            old = self._entries.get(entry.sku)
            if old is not None:
                if replace(old, seen_at=entry.seen_at) != entry:
                    changed += 1
                self._unindex(old)
            else:
                changed += 1
                insort(self._skus, entry.sku)
            self._entries[entry.sku] = entry
            self._index(entry)
        return changed

    def _index(self, entry: CatalogEntry) -> None:
        sku_key, title_key = entry.search_keys
        self._sku_keys.add(sku_key, entry.sku)
        self._title_keys.add(title_key, entry.sku)
        for kind, id_ in entry.refs.items():
            self._refs[(kind, id_)] = entry.sku

    def _unindex(self, entry: CatalogEntry) -> None:
        sku_key, title_key = entry.search_keys
        self._sku_keys.remove(sku_key, entry.sku)
        self._title_keys.remove(title_key, entry.sku)
        for kind, id_ in entry.refs.items():
            if self._refs.get((kind, id_)) == entry.sku:
                del self._refs[(kind, id_)]

    def _copy(self, entry: CatalogEntry) -> CatalogEntry:
        return replace(entry, refs=dict(entry.refs))

    async def get_entries(self, skus: Sequence[str]) -> list[CatalogEntry]:
        found = {sku: e for sku in skus if (e := self._entries.get(sku)) is not None}
        return [self._copy(found[sku]) for sku in sorted(found)]

    async def search_entries(
        self, prefix: str | None = None, *, after: str | None = None, limit: int = 50
    ) -> list[CatalogEntry]:
        if limit <= 0:
            return []
        if not prefix:
            start = bisect_right(self._skus, after) if after is not None else 0
            skus = self._skus[start : start + limit]
        else:
            key = prefix.lower()
            matches = {*self._sku_keys.prefixed(key), *self._title_keys.prefixed(key)}
            skus = sorted(s for s in matches if after is None or s > after)[:limit]
        return [self._copy(self._entries[sku]) for sku in skus]

    async def skus_for_refs(self, kind: str, ids: Sequence[str]) -> dict[str, str]:
        return {id_: sku for id_ in ids if (sku := self._refs.get((kind, id_))) is not None}

    async def remove_unseen(self, before: datetime) -> int:
        cutoff = to_utc(before)
        gone = [e for e in self._entries.values() if e.seen_at < cutoff]
        for entry in gone:
            self._unindex(entry)
            del self._entries[entry.sku]
            del self._skus[bisect_left(self._skus, entry.sku)]
        return len(gone)

    async def count_entries(self) -> int:
        return len(self._entries)
