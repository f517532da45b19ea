"""Klaviyo's declaration: its settings, its connector, its place among the sources and how
the demo runs it against :mod:`sandboxes.klaviyo`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from connectors.klaviyo.connector import MAX_CONNECTIONS, KlaviyoConfig, KlaviyoConnector
from connectors.klaviyo.engagement import EngagementSettings
from connectors.klaviyo.settings import KlaviyoSettings
from connectors.klaviyo.source import SOURCE
from connectors.metrics import RequestCounter
from connectors.vendor import DemoSandbox, SandboxTarget, SharedConfig, Vendor

#: The API key the demo's sandbox accepts. It only ever guards a loopback fake.
DEMO_KEY = "pk_demo_klaviyo_key"


def build(
    settings: KlaviyoSettings, shared: SharedConfig, counter: RequestCounter
) -> KlaviyoConnector | None:
    if not settings.api_key:
        return None
    return KlaviyoConnector(
        KlaviyoConfig(
            http=shared.http(settings.base_url),
            api_key=settings.api_key.get_secret_value(),
            revision=settings.revision,
            engagement=EngagementSettings(lookback=timedelta(days=settings.engagement_days)),
            max_connections=settings.max_connections or MAX_CONNECTIONS,
        ),
        counter=counter,
    )


def _sandbox_options(webhook_url: str) -> Mapping[str, Any]:
    # Klaviyo sends no webhooks that the gateway subscribes to.
    return {"api_key": DEMO_KEY}


def _point_at_sandbox(settings: KlaviyoSettings, target: SandboxTarget) -> KlaviyoSettings:
    return settings.model_copy(
        update={
            "base_url": target.url,
            "api_key": SecretStr(DEMO_KEY),
            # The demo's events end at the dataset's fixed "now": keep reading its last
            # 90 days however long after that date the demo runs.
            "engagement_days": settings.engagement_days + target.dataset_age_days,
        }
    )


VENDOR = Vendor(
    source=SOURCE,
    settings=KlaviyoSettings,
    build=build,
    # A person with two emails has two Klaviyo profiles.
    identity_limit=3,
    # Names people typed into a signup form: after the online store's, before a cashier's.
    name_precedence=20,
    sandbox=DemoSandbox(
        factory="sandboxes.klaviyo:create_sandbox",
        options=_sandbox_options,
        configure=_point_at_sandbox,
    ),
)
