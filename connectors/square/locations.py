"""Square location ids to unified location ids, and back.

The same physical store can be a Shopify location and a Square location. The setting
``square_location_map`` says which Square location is which unified location (for example
``{"L8DN0Q3BXHNRP": "shopify:53716844710"}``), so stock and orders from both systems land on
one location. A Square location that is not mapped is its own unified location,
``square:<id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PREFIX = "square:"


class LocationMap:
    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self._to_unified = dict(mapping or {})
        self._to_square: dict[str, list[str]] = {}
        for square_id, unified in self._to_unified.items():
            self._to_square.setdefault(unified, []).append(square_id)

    def unified(self, square_id: str) -> str:
        """The unified id of a Square location."""
        return self._to_unified.get(square_id) or f"{PREFIX}{square_id}"

    def unified_or_none(self, square_id: object) -> str | None:
        return self.unified(square_id) if isinstance(square_id, str) and square_id else None

    def square_ids(self, unified_ids: Iterable[str], known: Iterable[str] = ()) -> list[str]:
        """The Square locations behind ``unified_ids`` (order kept, no duplicates).

        A ``square:<id>`` id names that Square location unless the map sends it elsewhere;
        ``known`` (Square's own location list, when at hand) lets other ids through only if
        they exist, so a Shopify-only location never becomes a bogus Square filter.
        """
        known_ids = set(known)
        found: list[str] = []
        for unified in unified_ids:
            candidates = list(self._to_square.get(unified, ()))
            if unified.startswith(PREFIX):
                raw = unified[len(PREFIX) :]
                if raw and raw not in self._to_unified:
                    candidates.append(raw)
            for square_id in candidates:
                if known_ids and square_id not in known_ids:
                    continue
                if square_id not in found:
                    found.append(square_id)
        return found
