"""Last opened, last clicked and last event per profile, for many profiles at once.

Klaviyo's Events API filters ``profile_id`` with ``equals`` only, so asking per profile would
cost one call per customer and metric. Instead the connector reads three event streams, newest
first (``sort=-datetime``, 1,000 events a page), over a look-back window: events of the
"Opened Email" metric, of "Clicked Email", and of every metric. The first event of a profile in
a stream is its latest, so a stream is read only until every requested profile has appeared,
the window is exhausted, or a page cap is reached. The number of calls therefore depends on
how much happened in the account recently, never on how many customers are asked about.

What a stream has read is kept for ``ttl`` seconds and shared by every caller, so the next
DataLoader batch (or a concurrent one) is answered from memory, or continues reading where the
last one stopped. A profile absent from a stream that was read to the end of the window has no
such event in the window, which is an answer too (``None``).

Metric ids come from the Metrics API once (by name) and are cached for ``metrics_ttl``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.klaviyo import filters
from connectors.klaviyo.client import KlaviyoClient, bad_document
from connectors.klaviyo.mapping import (
    MappingError,
    next_link,
    related_id,
    resources,
    timestamp,
)
from connectors.records import Engagement

log = logging.getLogger("omnigate.connectors.klaviyo")

OPENED_EMAIL = "Opened Email"
CLICKED_EMAIL = "Clicked Email"

#: Events per page: the maximum ``page[size]`` of ``GET /api/events``.
EVENTS_PAGE_SIZE = 1000


@dataclass(slots=True)
class EngagementSettings:
    lookback: timedelta = timedelta(days=90)
    #: Cap on pages read per stream and cache period: 3 streams x 10 pages x 1,000 events.
    max_pages: int = 10
    ttl: float = 120.0
    metrics_ttl: float = 3600.0


@dataclass(slots=True)
class _Stream:
    """One event stream being read, newest first, and what it has shown so far."""

    metric_id: str | None
    started: float
    since: datetime
    latest: dict[str, datetime] = field(default_factory=dict)
    next_url: str | None = None
    begun: bool = False
    pages: int = 0

    @property
    def exhausted(self) -> bool:
        return self.begun and self.next_url is None


class EngagementReader:
    def __init__(
        self,
        client: KlaviyoClient,
        settings: EngagementSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings or EngagementSettings()
        self._clock = clock
        self._now = now or (lambda: datetime.now(UTC))
        self._metric_ids: dict[str, tuple[str, ...]] | None = None
        self._metrics_at = 0.0
        self._metrics_lock = asyncio.Lock()
        self._streams: dict[str, _Stream] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def engagement(self, profile_ids: Sequence[str]) -> dict[str, Engagement]:
        wanted = set(profile_ids)
        if not wanted:
            return {}
        metric_ids = await self.metric_ids()
        opened, clicked, anything = await asyncio.gather(
            self._latest_of(metric_ids.get(OPENED_EMAIL, ()), wanted),
            self._latest_of(metric_ids.get(CLICKED_EMAIL, ()), wanted),
            self._latest(None, wanted),
        )
        result: dict[str, Engagement] = {}
        for pid in profile_ids:
            last_open, last_click = opened.get(pid), clicked.get(pid)
            seen = [t for t in (anything.get(pid), last_open, last_click) if t is not None]
            result[pid] = Engagement(
                profile_id=pid,
                last_opened_at=last_open,
                last_clicked_at=last_click,
                last_event_at=max(seen) if seen else None,
            )
        return result

    async def metric_ids(self) -> dict[str, tuple[str, ...]]:
        """Metric ids by name for the metrics we read. Several integrations may define a
        metric of the same name; events of all of them count."""
        async with self._metrics_lock:
            fresh = self._clock() - self._metrics_at < self.settings.metrics_ttl
            if self._metric_ids is not None and fresh:
                return self._metric_ids
            wanted = {OPENED_EMAIL, CLICKED_EMAIL}
            found: dict[str, list[str]] = {name: [] for name in wanted}
            async for page in self.client.pages(
                "/api/metrics", operation="get_metrics", params={"fields[metric]": "name"}
            ):
                try:
                    items = resources(page, "metric")
                except MappingError as exc:
                    raise bad_document("get_metrics", exc) from exc
                for item in items:
                    name = (item.get("attributes") or {}).get("name")
                    if name in wanted:
                        found[name].append(str(item["id"]))
            self._metric_ids = {name: tuple(ids) for name, ids in found.items()}
            self._metrics_at = self._clock()
            return self._metric_ids

    async def _latest_of(self, metric_ids: Sequence[str], wanted: set[str]) -> dict[str, datetime]:
        """Latest event per profile over the metrics of one name. ``metric_id`` filters with
        ``equals`` only, so each metric is its own stream; usually there is exactly one, and
        none means the account never recorded such an event."""
        merged: dict[str, datetime] = {}
        for latest in await asyncio.gather(*(self._latest(m, wanted) for m in metric_ids)):
            for pid, moment in latest.items():
                if pid not in merged or moment > merged[pid]:
                    merged[pid] = moment
        return merged

    async def _latest(self, metric_id: str | None, wanted: set[str]) -> dict[str, datetime]:
        """Latest event per wanted profile in one stream (one metric, or every metric)."""
        key = metric_id or ""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            stream = self._streams.get(key)
            if stream is None or self._clock() - stream.started >= self.settings.ttl:
                stream = _Stream(
                    metric_id=metric_id,
                    started=self._clock(),
                    since=self._now() - self.settings.lookback,
                )
                self._streams[key] = stream
            while (
                not wanted <= stream.latest.keys()
                and not stream.exhausted
                and stream.pages < self.settings.max_pages
            ):
                await self._read_page(stream)
            return {pid: stream.latest[pid] for pid in wanted if pid in stream.latest}

    async def _read_page(self, stream: _Stream) -> None:
        if stream.begun:
            assert stream.next_url is not None
            page = await self.client.get(stream.next_url, operation="get_events")
        else:
            page = await self.client.get(
                "/api/events", operation="get_events", params=self._params(stream)
            )
            stream.begun = True
        stream.pages += 1
        try:
            items = resources(page, "event")
        except MappingError as exc:
            raise bad_document("get_events", exc) from exc
        for item in items:
            pid = related_id(item, "profile")
            moment = timestamp((item.get("attributes") or {}).get("datetime"))
            if pid is None or moment is None:
                continue
            if pid not in stream.latest or moment > stream.latest[pid]:
                stream.latest[pid] = moment
        stream.next_url = next_link(page)
        if stream.pages >= self.settings.max_pages and stream.next_url is not None:
            log.info(
                "klaviyo engagement: page cap reached after %d pages",
                stream.pages,
                extra={"connector": "klaviyo", "operation": "get_events"},
            )

    def _params(self, stream: _Stream) -> Mapping[str, str]:
        window = filters.greater_than("datetime", stream.since)
        expression = (
            filters.and_(filters.equals("metric_id", stream.metric_id), window)
            if stream.metric_id is not None
            else window
        )
        return {
            "filter": expression,
            "sort": "-datetime",
            "page[size]": str(EVENTS_PAGE_SIZE),
            "fields[event]": "datetime",
        }
