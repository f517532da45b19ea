"""Lightspeed's declaration: what the gateway needs to know of it, and nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from connectors.metrics import RequestCounter
from connectors.vendor import DemoSandbox, SandboxTarget, SharedConfig, Vendor, secret
from tests.vendors.lightspeed.connector import SOURCE, LightspeedConnector
from tests.vendors.lightspeed.settings import LightspeedSettings

DEMO_KEY = "ls_demo_key"
DEMO_WEBHOOK_SECRET = "demo-lightspeed-webhook-secret"


def build(
    settings: LightspeedSettings, shared: SharedConfig, counter: RequestCounter
) -> LightspeedConnector | None:
    if not settings.api_key:
        return None
    return LightspeedConnector(
        shared.http(settings.base_url),
        settings.api_key.get_secret_value(),
        webhook_secret=secret(settings.webhook_secret),
        counter=counter,
    )


def _sandbox_options(webhook_url: str) -> Mapping[str, Any]:
    return {"api_key": DEMO_KEY, "webhook_secret": DEMO_WEBHOOK_SECRET, "webhook_url": webhook_url}


def _point_at_sandbox(settings: LightspeedSettings, target: SandboxTarget) -> LightspeedSettings:
    return settings.model_copy(
        update={
            "base_url": target.url,
            "api_key": SecretStr(DEMO_KEY),
            "webhook_secret": SecretStr(DEMO_WEBHOOK_SECRET),
        }
    )


VENDOR = Vendor(
    source=SOURCE,
    settings=LightspeedSettings,
    build=build,
    identity_limit=1,
    # A POS: its names rank after every built-in's.
    name_precedence=40,
    sandbox=DemoSandbox(
        factory="tests.vendors.lightspeed.sandbox:create_sandbox",
        options=_sandbox_options,
        configure=_point_at_sandbox,
    ),
)
