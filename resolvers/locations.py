"""One list of locations across every connector, cached for a short while.

Locations change rarely (a store opens, pickup is switched on) and every order, stock level
and favourite store refers to one, so they are read once per TTL rather than per request,
and dropped at once when a ``locations/update`` webhook arrives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

from connectors import vendors as registry
from connectors.capabilities import LocationSource
from connectors.errors import UpstreamError
from connectors.records import LocationRecord, Source
from connectors.registry import ConnectorSet
from resolvers.errors import OmnigateError

#: What a lower-ranked source's copy of a shared location may add when the first says nothing
#: (Square knows a store's time zone, Shopify does not publish one).
FILLABLE = ("latitude", "longitude", "timezone", "phone", "email", "pickup_lead_time_minutes")


#: Seconds a read that missed a source is reused: every stock level a warmup or a burst of
#: webhooks stores asks for its keeper, and a vendor that is down must not be asked for its
#: locations once per level; a few seconds on, the next caller tries it again.
PARTIAL_TTL = 5.0


class LocationsUnavailable(OmnigateError):
    code = "UPSTREAM_UNAVAILABLE"


def fill(first: LocationRecord, other: LocationRecord) -> LocationRecord:
    """``first`` (the higher-ranked source's copy) with the fields it lacks taken from
    ``other``; what ``first`` says always wins."""
    missing = {
        name: value
        for name in FILLABLE
        if getattr(first, name) is None and (value := getattr(other, name)) is not None
    }
    return dataclasses.replace(first, **missing) if missing else first


class LocationDirectory:
    def __init__(
        self,
        connectors: ConnectorSet,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connectors = connectors
        self.ttl = ttl_seconds
        self.clock = clock
        self._cached: dict[str, LocationRecord] | None = None
        #: A read that missed a source, kept for :data:`PARTIAL_TTL` seconds only.
        self._partial: dict[str, LocationRecord] | None = None
        self._partial_at = 0.0
        #: Unified location id -> the sources that list it, from the latest read.
        self._listed: dict[str, list[Source]] = {}
        #: Sources whose list the latest read could not get (their locations are missing).
        self._unread: tuple[Source, ...] = ()
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._cached = self._partial = None

    def _fresh(self) -> dict[str, LocationRecord] | None:
        now = self.clock()
        if self._cached is not None and now - self._loaded_at < self.ttl:
            return self._cached
        if self._partial is not None and now - self._partial_at < PARTIAL_TTL:
            return self._partial
        return None

    async def all(self) -> dict[str, LocationRecord]:
        if (fresh := self._fresh()) is not None:
            return fresh
        async with self._lock:
            if (fresh := self._fresh()) is not None:
                return fresh
            # Which source's description of a shared location wins is the vendors' own
            # declaration (the online store knows addresses and pickup settings; a POS's copy
            # of the same store usually says less).
            precedence = registry.location_precedence()
            sources = sorted(
                self.connectors.of(LocationSource),
                key=lambda c: precedence.get(c.source, registry.LAST),
            )
            results = await asyncio.gather(
                *(s.list_locations() for s in sources), return_exceptions=True
            )
            merged: dict[str, LocationRecord] = {}
            listed: dict[str, list[Source]] = {}
            complete = True
            unread: list[Source] = []
            for source, result in zip(sources, results, strict=True):
                if isinstance(result, UpstreamError):
                    complete = False
                    unread.append(source.source)
                    continue
                if isinstance(result, BaseException):
                    raise result
                for location in result:
                    first = merged.get(location.id)
                    merged[location.id] = location if first is None else fill(first, location)
                    listed.setdefault(location.id, []).append(location.source)
            self._listed = listed
            self._unread = tuple(unread)
            if complete:
                self._cached, self._loaded_at, self._partial = merged, self.clock(), None
            else:
                self._partial, self._partial_at = merged, self.clock()
            return merged

    async def get(self, location_id: str) -> LocationRecord | None:
        return (await self.all()).get(location_id)

    async def find(self, location_id: str) -> LocationRecord | None:
        """Like :meth:`get`, but a location missing while some source's list could not be
        read is an outage (``UPSTREAM_UNAVAILABLE``), not an unknown location: a hold at a
        Square store must not be refused as ``UNKNOWN_LOCATION`` because Square is down."""
        found = await self.get(location_id)
        if found is None and self._unread:
            names = ", ".join(sorted(s.value for s in self._unread))
            raise LocationsUnavailable(
                f"Locations could not be read from {names}; try again shortly.",
                extensions={"sources": sorted(s.value for s in self._unread)},
            )
        return found

    async def stock_source(self, location_id: str) -> Source | None:
        """The one source whose count of this location's stock is stored: where two sources
        list one store (a Square store mapped onto its Shopify twin), the vendors'
        ``stock_precedence`` decides, so their counts never overwrite each other. ``None``
        for a location no source lists (its levels are taken as they come)."""
        await self.all()
        sources = self._listed.get(location_id)
        if not sources:
            return None
        precedence = registry.stock_precedence()
        return min(sources, key=lambda s: precedence.get(s, registry.LAST))
