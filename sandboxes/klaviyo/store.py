"""The sandbox's own mutable copy of the demo world's Klaviyo records.

The copy keeps the sandbox independent of the other sandboxes sharing the world object: a
property written here or a profile erased here changes nothing in Shopify's or Square's view.
Indexes (email, phone) follow Klaviyo's rules: emails are matched without regard to case and a
phone number belongs to at most one profile.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.records import Consent, ConsentState
from sandboxes.base.clock import SandboxClock
from sandboxes.demo.world import (
    DemoWorld,
    KlaviyoEvent,
    KlaviyoMetric,
    KlaviyoProfile,
)


@dataclass(slots=True)
class ImportJob:
    id: str
    created_at: datetime
    profiles: list[dict[str, Any]]
    status: str = "queued"
    completed_count: int = 0
    failed_count: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    profile_ids: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def total_count(self) -> int:
        return len(self.profiles)


@dataclass(frozen=True, slots=True)
class DeletionRequest:
    requested_at: datetime
    identifier: str
    value: str
    deleted_profile_ids: tuple[str, ...]


class KlaviyoStore:
    def __init__(self, world: DemoWorld, *, sandbox_clock: SandboxClock | None = None) -> None:
        self.world_now = world.now
        #: Stamps what changes here: the stack's shared clock (see ``sandboxes.base.clock``).
        self.clock = sandbox_clock or SandboxClock(world.now)
        self.ids = copy.deepcopy(world.ids)
        self.profiles: dict[str, KlaviyoProfile] = {
            p.id: copy.deepcopy(p) for p in world.klaviyo_profiles
        }
        self.metrics: dict[str, KlaviyoMetric] = {
            m.id: copy.deepcopy(m) for m in world.klaviyo_metrics
        }
        #: Newest first, the order ``sort=-datetime`` serves and new events are inserted in.
        self.events: list[KlaviyoEvent] = sorted(
            (copy.deepcopy(e) for e in world.klaviyo_events),
            key=lambda e: (e.time, e.id),
            reverse=True,
        )
        self.metrics_created = world.now - timedelta(days=730)
        self.jobs: dict[str, ImportJob] = {}
        self.deletions: list[DeletionRequest] = []
        self._job_numbers = itertools.count(1)
        self._timers: set[asyncio.TimerHandle] = set()
        self._by_email: dict[str, str] = {}
        self._by_phone: dict[str, str] = {}
        self._last_event: dict[str, datetime] = {}
        self.reindex()

    def now(self) -> datetime:
        """Wall-clock time, after every earlier stamp and everything generated."""
        return self.clock.now()

    # --- indexes ------------------------------------------------------------------------------

    def reindex(self) -> None:
        self._by_email = {p.email.lower(): p.id for p in self.profiles.values() if p.email}
        self._by_phone = {p.phone_number: p.id for p in self.profiles.values() if p.phone_number}
        self._last_event = {}
        for event in self.events:
            self._last_event.setdefault(event.profile_id, event.time)

    def by_email(self, email: str) -> KlaviyoProfile | None:
        pid = self._by_email.get(email.strip().lower())
        return self.profiles.get(pid) if pid else None

    def by_phone(self, phone: str) -> KlaviyoProfile | None:
        pid = self._by_phone.get(phone.strip())
        return self.profiles.get(pid) if pid else None

    def last_event_date(self, profile_id: str) -> datetime | None:
        return self._last_event.get(profile_id)

    # --- changes ------------------------------------------------------------------------------

    def create_profile(
        self,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        properties: dict[str, object] | None = None,
        email_consent: Consent | None = None,
        sms_consent: Consent | None = None,
    ) -> KlaviyoProfile:
        at = self.now()
        profile = KlaviyoProfile(
            id=self.ids.klaviyo_ulid(at),
            person_id="",
            email=email.strip().lower() if email else None,
            phone_number=phone_number,
            first_name=first_name,
            last_name=last_name,
            address=None,
            email_consent=email_consent or Consent(ConsentState.NEVER_SUBSCRIBED),
            sms_consent=sms_consent,
            created=at,
            updated=at,
            properties=dict(properties or {}),
        )
        self.profiles[profile.id] = profile
        if profile.email:
            self._by_email[profile.email] = profile.id
        if phone_number:
            self._by_phone[phone_number] = profile.id
        return profile

    def update_profile(
        self,
        profile: KlaviyoProfile,
        *,
        attributes: dict[str, Any],
        unset: Iterable[str] = (),
    ) -> None:
        """Apply a PATCH or an import: given identifiers and names replace, properties merge."""
        if attributes.get("email"):
            if profile.email:
                self._by_email.pop(profile.email.lower(), None)
            profile.email = str(attributes["email"]).strip().lower()
            self._by_email[profile.email] = profile.id
        if attributes.get("phone_number"):
            if profile.phone_number:
                self._by_phone.pop(profile.phone_number, None)
            profile.phone_number = str(attributes["phone_number"])
            self._by_phone[profile.phone_number] = profile.id
        for name in ("first_name", "last_name"):
            if name in attributes:
                setattr(profile, name, attributes[name])
        properties = attributes.get("properties")
        if isinstance(properties, dict):
            profile.properties.update(properties)
        for key in unset:
            profile.properties.pop(key, None)
        profile.updated = self.now()

    def delete_profiles(self, ids: Iterable[str]) -> tuple[str, ...]:
        gone = tuple(pid for pid in ids if self.profiles.pop(pid, None) is not None)
        if gone:
            dropped = set(gone)
            self.events = [e for e in self.events if e.profile_id not in dropped]
            self.reindex()
        return gone

    def metric_named(self, name: str, integration: str = "Klaviyo") -> KlaviyoMetric:
        for metric in self.metrics.values():
            if metric.name == name:
                return metric
        metric = KlaviyoMetric(self.ids.klaviyo_metric(), name, integration)
        self.metrics[metric.id] = metric
        return metric

    def add_event(
        self,
        profile: KlaviyoProfile,
        metric: KlaviyoMetric,
        at: datetime,
        properties: dict[str, object] | None = None,
    ) -> KlaviyoEvent:
        event = KlaviyoEvent(
            id=self.ids.klaviyo_event(),
            profile_id=profile.id,
            metric_id=metric.id,
            time=at,
            value=None,
            properties=dict(properties or {}),
            person_id=profile.person_id,
        )
        self.events.append(event)
        self.events.sort(key=lambda e: (e.time, e.id), reverse=True)
        latest = self._last_event.get(profile.id)
        if latest is None or at > latest:
            self._last_event[profile.id] = at
        return event

    def new_job_id(self) -> str:
        # Klaviyo job ids are opaque strings; this keeps them short and readable in the demo.
        return f"{self.ids.klaviyo_event()}{next(self._job_numbers):04d}"

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` later on the loop (bulk jobs are processed asynchronously)."""
        loop = asyncio.get_running_loop()

        def run() -> None:
            self._timers.discard(handle)
            callback()

        handle = loop.call_later(delay, run)
        self._timers.add(handle)

    def cancel_timers(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
