"""The Klaviyo connector: marketing profiles, consent and engagement in; loyalty out.

Implements ``MarketingSource`` (profiles by email, phone or id, with consent; engagement) and
``MarketingSink`` (profile properties written in the background; privacy deletion). Klaviyo
sends no webhooks Omnigate needs, so ``webhooks`` is ``None``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connectors.http import HttpClient, HttpConfig
from connectors.klaviyo import filters
from connectors.klaviyo.client import KlaviyoClient, auth_headers, bad_document, classify
from connectors.klaviyo.engagement import EngagementReader, EngagementSettings
from connectors.klaviyo.mapping import MappingError, deletion_body, profile, resources
from connectors.klaviyo.ratelimit import Pacers, RateLimit
from connectors.klaviyo.source import SOURCE
from connectors.klaviyo.writer import ProfileWriter, WriterSettings
from connectors.metrics import RequestCounter
from connectors.records import Engagement, MarketingProfile, ProfileUpdate, Source
from connectors.webhooks import WebhookEndpoint

log = logging.getLogger("omnigate.connectors.klaviyo")

DEFAULT_REVISION = "2026-07-15"

#: Scopes the private API key needs: the union of ``x-klaviyo-scopes`` of the operations called
#: (a contract test checks this against the spec).
REQUIRED_SCOPES: tuple[str, ...] = (
    "profiles:read",
    "profiles:write",
    "lists:read",
    "lists:write",
    "events:read",
    "metrics:read",
    "data-privacy:write",
)

#: ``page[size]`` maximum of ``GET /api/profiles``, and so the most values one ``any()`` asks.
PROFILES_PAGE_SIZE = 100

#: Connections to Klaviyo. Its limits are per endpoint and per second (``GET /api/profiles``
#: 75/s, events 350/s, most others 10/s), and the pacer already admits no more than that; at
#: ~200 ms a call, 75 profile reads a second are ~15 in flight, and twenty leave room for the
#: writer's bulk imports beside them.
MAX_CONNECTIONS = 20


@dataclass(frozen=True, slots=True)
class KlaviyoConfig:
    http: HttpConfig
    api_key: str
    revision: str = DEFAULT_REVISION
    engagement: EngagementSettings = field(default_factory=EngagementSettings)
    writer: WriterSettings = field(default_factory=WriterSettings)
    #: Override of the per-operation rate limits (operationId -> limit); ``None``: the spec's.
    rate_limits: Mapping[str, RateLimit] | None = None
    #: Pool size; replaces ``http.max_connections`` (see :data:`MAX_CONNECTIONS`).
    max_connections: int = MAX_CONNECTIONS


class KlaviyoConnector:
    source: Source = SOURCE
    webhooks: WebhookEndpoint | None = None

    def __init__(
        self,
        config: KlaviyoConfig,
        *,
        counter: RequestCounter | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """``now`` (the wall clock by default) anchors the engagement look-back window; the
        demo world lives at a fixed date, so its tests pass the world's own "now"."""
        self.config = config
        headers = {**config.http.default_headers, **auth_headers(config.api_key, config.revision)}
        http_config = dataclasses.replace(
            config.http, default_headers=headers, max_connections=config.max_connections
        )
        self.http = HttpClient(http_config, source=SOURCE, counter=counter, classify=classify)
        self.client = KlaviyoClient(self.http, pacers=Pacers(config.rate_limits))
        self.events = EngagementReader(self.client, config.engagement, now=now)
        self.writer = ProfileWriter(self.client, config.writer)

    # --- Connector ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.http.start()
        self.writer.start()

    async def close(self) -> None:
        try:
            await self.writer.close()
        finally:
            await self.http.close()

    def circuit_state(self) -> str:
        return self.http.circuit_state()

    # --- MarketingSource ----------------------------------------------------------------------

    async def profiles(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        ids: Sequence[str] = (),
    ) -> list[MarketingProfile]:
        """Profiles matching any of the emails, phones or ids: one call per identifier kind and
        hundred values (``any(field,[...])`` with ``page[size]=100``), all in parallel."""
        queries = [
            filters.any_of(name, chunk)
            for name, values in (("email", emails), ("phone_number", phones), ("id", ids))
            for chunk in _chunks(_unique(values), PROFILES_PAGE_SIZE)
        ]
        pages = await asyncio.gather(*(self._profiles_matching(q) for q in queries))
        found: dict[str, MarketingProfile] = {}
        for page in pages:
            for item in page:
                found.setdefault(item.id, item)
        return list(found.values())

    async def _profiles_matching(self, expression: str) -> list[MarketingProfile]:
        params = {
            "filter": expression,
            "page[size]": str(PROFILES_PAGE_SIZE),
            "additional-fields[profile]": "subscriptions",
        }
        result: list[MarketingProfile] = []
        async for page in self.client.pages(
            "/api/profiles", operation="get_profiles", params=params
        ):
            try:
                result.extend(profile(item) for item in resources(page, "profile"))
            except MappingError as exc:
                raise bad_document("get_profiles", exc) from exc
        return result

    async def list_profiles(
        self, *, updated_since: datetime | None = None
    ) -> AsyncIterator[list[MarketingProfile]]:
        """Every profile, a page at a time, oldest update first (``MarketingDirectory``): sync
        needs the subscribers who never bought anywhere."""
        params = {
            "page[size]": str(PROFILES_PAGE_SIZE),
            "additional-fields[profile]": "subscriptions",
            "sort": "updated",
        }
        if updated_since is not None:
            params["filter"] = filters.greater_than("updated", updated_since)
        async for page in self.client.pages(
            "/api/profiles", operation="list_profiles", params=params
        ):
            try:
                yield [profile(item) for item in resources(page, "profile")]
            except MappingError as exc:
                raise bad_document("list_profiles", exc) from exc

    async def engagement(self, profile_ids: Sequence[str]) -> Mapping[str, Engagement]:
        return await self.events.engagement(_unique(profile_ids))

    # --- MarketingSink ------------------------------------------------------------------------

    async def update_profiles(self, updates: Sequence[ProfileUpdate]) -> None:
        """Queue the writes and return at once (see :mod:`connectors.klaviyo.writer`)."""
        self.writer.enqueue(updates)

    async def flush(self) -> None:
        """Wait for queued profile writes to reach Klaviyo."""
        await self.writer.flush()

    async def request_deletion(self, *, email: str | None, phone: str | None) -> None:
        """One deletion job per identifier (Klaviyo takes exactly one per job), so a person
        known by email and phone is erased under both."""
        bodies = [deletion_body(email=email)] if email else []
        if phone:
            bodies.append(deletion_body(phone=phone))
        if not bodies:
            log.info("klaviyo deletion requested without an email or phone: nothing to do")
            return
        # Asking twice to delete the same person is harmless, so a lost answer is retried.
        await asyncio.gather(
            *(
                self.client.call(
                    "POST",
                    "/api/data-privacy-deletion-jobs",
                    operation="request_profile_deletion",
                    body=body,
                    idempotent=True,
                )
                for body in bodies
            )
        )


def _unique(values: Sequence[str]) -> list[str]:
    """Distinct non-empty values, first occurrence order (a filter need not ask twice)."""
    return list(dict.fromkeys(v for v in values if v))


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
