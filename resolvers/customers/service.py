"""Serving unified profiles from the cache, and keeping the cache right.

- Fresh (younger than the TTL): served as stored, no upstream call.
- Stale: served at once with ``stale: true`` and refreshed in the background. However many
  requests see it stale, one refresh per profile runs at a time (single flight).
- Missing body (a profile whose identities are known but never built): built now, in the
  request, from every source in parallel.
- A refresh that cannot reach a source keeps the cached body and records which source failed
  and why, so that later answers say ``stale: true`` with an error naming the source.
- A rebuild runs under a deadline of its own (``refresh_deadline``), not its first caller's:
  it fills the cache for everyone. Each request waits for it until its own deadline at most
  (then the field is ``null`` with ``UPSTREAM_TIMEOUT``), and the rebuild goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opentelemetry.trace import Tracer

from connectors import deadline
from connectors.records import OrderRecord
from connectors.registry import ConnectorSet
from resolvers.customers.profile import (
    SourceStatus,
    UnifiedProfile,
    build_profile,
    from_body,
    to_body,
)
from resolvers.customers.sources import load_sources
from resolvers.errors import DeadlineExceeded
from resolvers.identity.placeholders import Placeholders
from resolvers.loaders import Loaders
from resolvers.loyalty.code_index import index_codes
from resolvers.model import ProfileDoc
from resolvers.store import Store, VersionConflict

log = logging.getLogger("omnigate.customers")

#: What runs after a profile is stored, with every order its sources reported (loyalty
#: earns from them; see ``resolvers.loyalty.earning.accrue``).
AfterBuild = Callable[[str, Sequence[OrderRecord]], Awaitable[object]]
#: What runs after that, whether the person has orders or not, when the profile was built
#: afresh (not when a failing source kept the cached body): the document as stored (its
#: version), the profile and every order (the segment facts; see ``resolvers.segments``).
OnBuilt = Callable[[ProfileDoc, UnifiedProfile, Sequence[OrderRecord]], Awaitable[object]]

#: Rebuilds of one profile that another writer may overtake before one gives up and the
#: newest stored document is served (it will be rebuilt again when it is next stale).
_REBUILD_ATTEMPTS = 4


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Served:
    """A profile as served: its data, whether it is stale, and failing sources."""

    profile: UnifiedProfile
    stale: bool

    @property
    def failed_sources(self) -> list[SourceStatus]:
        return [s for s in self.profile.sources if not s.ok]


class CustomerService:
    def __init__(
        self,
        store: Store,
        connectors: ConnectorSet,
        *,
        ttl: timedelta = timedelta(minutes=5),
        region: str = "US",
        placeholders: Placeholders | None = None,
        clock: Callable[[], datetime] = utcnow,
        refresh_deadline: float | None = 30.0,
        tracer: Tracer | None = None,
    ) -> None:
        """``tracer``: the gateway's, for the spans of the DataLoaders this service makes."""
        self.store = store
        self.connectors = connectors
        self.ttl = ttl
        self.region = region
        self.placeholders = placeholders or Placeholders()
        self.clock = clock
        self.refresh_deadline = refresh_deadline
        self.tracer = tracer
        self._inflight: dict[str, asyncio.Task[ProfileDoc | None]] = {}
        self._background: set[asyncio.Task[ProfileDoc | None]] = set()
        self._bg_loaders: Loaders | None = None
        #: Profiles served from the cache (``hit``), served stale while a refresh runs
        #: (``stale``), or built because nothing was cached (``miss``), since start.
        self.served: Counter[str] = Counter()
        #: Set by the composition root; the customer use cases do not know loyalty.
        self.after_build: AfterBuild | None = None
        self.on_built: OnBuilt | None = None

    def new_loaders(self) -> Loaders:
        """A registry for one build or batch of builds, tracing with this service's tracer."""
        return Loaders(tracer=self.tracer)

    # --- serving ----------------------------------------------------------------------------

    def is_stale(self, doc: ProfileDoc) -> bool:
        if doc.refreshed_at is None:
            return True
        if any(not s.get("ok", True) for s in doc.body.get("sources", [])):
            return True
        return self.clock() - doc.refreshed_at > self.ttl

    async def serve(
        self, doc: ProfileDoc | None, profile_id: str, loaders: Loaders
    ) -> Served | None:
        """The profile for a cached document (``None`` if it was not cached)."""
        if doc is None or not doc.body:
            self.served["miss"] += 1
            doc = await self.refresh(profile_id, loaders)
            if doc is None or not doc.body:
                return None
            return Served(from_body(doc.body), stale=self.is_stale(doc))
        stale = self.is_stale(doc)
        self.served["stale" if stale else "hit"] += 1
        if stale:
            self.refresh_in_background(profile_id)
        return Served(from_body(doc.body), stale=stale)

    # --- refreshing -------------------------------------------------------------------------

    async def refresh(
        self, profile_id: str, loaders: Loaders | None = None, *, bounded: bool = True
    ) -> ProfileDoc | None:
        """Rebuild one profile from its sources; concurrent calls share one rebuild, which
        runs under its own deadline (none with ``bounded=False``: a backfill, whose shared
        batched calls are paced by the vendors' rate limits, not by a request). The caller
        waits until its own deadline at most."""
        task = self._inflight.get(profile_id)
        if task is None:
            task = asyncio.create_task(
                self._rebuild(profile_id, loaders or self.new_loaders()),
                context=deadline.detached(self.refresh_deadline if bounded else None),
            )
            self._inflight[profile_id] = task
            task.add_done_callback(lambda _: self._inflight.pop(profile_id, None))
        try:
            return await deadline.wait_shared(task)
        except deadline.DeadlinePassed:
            raise DeadlineExceeded(
                f"customer {profile_id}: its sources did not all answer before the request's "
                "deadline; the profile is still being built, ask again shortly",
                extensions={"customerId": profile_id},
            ) from None

    def rebuilding(self, profile_id: str) -> bool:
        """Whether a rebuild of the profile is under way (health checks, tests)."""
        return profile_id in self._inflight

    def refresh_in_background(self, profile_id: str) -> None:
        if profile_id in self._inflight:
            return
        # Refreshes scheduled in the same tick share loaders, so they batch upstream calls.
        if self._bg_loaders is None:
            self._bg_loaders = self.new_loaders()
            asyncio.get_running_loop().call_soon(self._reset_bg_loaders)
        # Not the request's deadline: the refresh is bounded by its own (see ``refresh``).
        task = asyncio.create_task(
            self.refresh(profile_id, self._bg_loaders), context=deadline.detached(None)
        )
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _reset_bg_loaders(self) -> None:
        self._bg_loaders = None

    def _background_done(self, task: asyncio.Task[ProfileDoc | None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background profile refresh failed", exc_info=task.exception())

    async def wait_idle(self) -> None:
        """Wait for every background refresh (tests, benchmarks, shutdown)."""
        while self._background or self._inflight:
            await asyncio.gather(
                *self._background, *self._inflight.values(), return_exceptions=True
            )

    async def _rebuild(self, profile_id: str, loaders: Loaders) -> ProfileDoc | None:
        """Build and store the profile, conditional on nobody having changed it meanwhile.

        The stored version is read *before* the identities, and the write is conditional on
        it. An erase, merge, unmerge or relink that happens while the vendors are being
        asked bumps that version (or retires the profile), so this write then fails instead
        of undoing it, and the build starts again from the new identities. Once identities
        are gone (erased, merged away) nothing is written at all.
        """
        for _ in range(_REBUILD_ATTEMPTS):
            try:
                built = await self._build_once(profile_id, loaders)
            except VersionConflict:
                log.info("profile %s changed during its rebuild; rebuilding again", profile_id)
                # A new wave: the loaders of the failed attempt may cache what it read.
                loaders = self.new_loaders()
            else:
                if built is not None:
                    # A code the member is shown must find them: index both (idempotent).
                    await index_codes(self.store.codes, profile_id)
                return built
        log.warning("profile %s kept changing during %d rebuilds", profile_id, _REBUILD_ATTEMPTS)
        return (await self.store.profiles.get_profiles([profile_id])).get(profile_id)

    async def _build_once(self, profile_id: str, loaders: Loaders) -> ProfileDoc | None:
        stored = (await self.store.profiles.get_profiles([profile_id], include_retired=True)).get(
            profile_id
        )
        expected = stored.version if stored is not None else 0
        cached = stored if stored is not None and not stored.retired else None
        identities = (await self.store.identities.identities_of([profile_id])).get(profile_id, [])
        if not identities:
            return cached
        emails = sorted(
            {
                e
                for i in identities
                for e in i.emails
                if not self.placeholders.is_placeholder_email(e)
            }
        )
        data = await load_sources(
            [(i.source, i.source_id) for i in identities], self.connectors, loaders, emails=emails
        )
        now = self.clock()
        statuses = list(data.statuses.values())
        if data.failed and cached is not None and cached.body:
            # Keep what we had; only record that these sources are failing.
            body = dict(cached.body)
            body["sources"] = to_body(_with_sources(from_body(body), statuses))["sources"]
            doc = ProfileDoc(
                id=profile_id,
                body=body,
                emails=cached.emails,
                phones=cached.phones,
                names=cached.names,
                refreshed_at=cached.refreshed_at,
            )
            stored = await self.store.profiles.put_profile(doc, expected_version=expected)
            await self._after_build(profile_id, data.orders)
            return stored
        profile = build_profile(
            profile_id,
            customers=data.customers,
            orders=data.orders,
            marketing=data.marketing,
            engagement=data.engagement,
            region=self.region,
            refreshed_at=now,
            sources=statuses,
            placeholder=self.placeholders,
        )
        stored = await self.store.profiles.put_profile(
            self.document(profile, partial=bool(data.failed)), expected_version=expected
        )
        await self._after_build(profile_id, data.orders)
        if self.on_built is not None:
            await self.on_built(stored, profile, data.orders)
        return stored

    async def _after_build(self, profile_id: str, orders: Sequence[OrderRecord]) -> None:
        """Once the profile is stored (so an erase or merge racing the build has already
        won or will find it): a failure here fails the rebuild, and the next one, or the
        vendor's retry of the webhook, runs it again (it is idempotent)."""
        if self.after_build is not None and orders:
            await self.after_build(profile_id, orders)

    def document(self, profile: UnifiedProfile, *, partial: bool = False) -> ProfileDoc:
        return ProfileDoc(
            id=profile.id,
            body=to_body(profile),
            emails=list(profile.emails),
            phones=list(profile.phones),
            names=profile.lookup_names(),
            # A profile built without some source is served, but stays due for a rebuild.
            refreshed_at=None if partial else profile.refreshed_at,
        )


def _with_sources(profile: UnifiedProfile, statuses: list[SourceStatus]) -> UnifiedProfile:
    profile.sources = statuses
    return profile
