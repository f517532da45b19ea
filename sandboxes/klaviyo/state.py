"""What the sandbox's handlers share, stored on the app under :data:`SANDBOX`."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from sandboxes.klaviyo.limits import FixedWindows
from sandboxes.klaviyo.store import KlaviyoStore


@dataclass(slots=True)
class KlaviyoSandbox:
    store: KlaviyoStore
    api_key: str
    limits: FixedWindows
    #: Seconds before a bulk import job is processed (Klaviyo processes them asynchronously).
    job_delay: float = 0.05
    #: Recent ``(operation, filter)`` pairs, so tests can see what the client asked.
    filters: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=2000))


SANDBOX = web.AppKey("klaviyo_sandbox", KlaviyoSandbox)
