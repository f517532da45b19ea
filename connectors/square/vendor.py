"""Square's declaration: its settings, its connector, its place among the sources and how
the demo runs it against :mod:`sandboxes.square`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from connectors.metrics import RequestCounter
from connectors.square.connector import MAX_CONNECTIONS, SquareConfig, SquareConnector
from connectors.square.locations import PREFIX
from connectors.square.settings import SquareSettings
from connectors.square.source import SOURCE
from connectors.vendor import DemoSandbox, SandboxTarget, SharedConfig, Vendor, secret

#: Credentials the demo's sandbox accepts. They only ever guard a loopback fake.
DEMO_TOKEN = "EAAAdemo_square_token"
DEMO_SIGNATURE_KEY = "demo-square-signature-key"


def build(
    settings: SquareSettings, shared: SharedConfig, counter: RequestCounter
) -> SquareConnector | None:
    if not settings.access_token:
        return None
    return SquareConnector(
        SquareConfig(
            http=shared.http(settings.base_url),
            access_token=settings.access_token.get_secret_value(),
            square_version=settings.version,
            webhook_signature_key=secret(settings.webhook_signature_key),
            location_map=dict(settings.location_map),
            # Square signs the URL it delivers to: the one registered, when a proxy in front
            # of the gateway makes it differ from the URL the gateway sees.
            webhook_notification_url=settings.webhook_url,
            default_phone_region=shared.default_phone_region,
            max_connections=settings.max_connections or MAX_CONNECTIONS,
            # The gateway's catalog map names every variation's SKU (adopt_sku_map) once it
            # is built at start; an unknown one is looked up when a webhook names it.
            warm_catalog_on_start=False,
        ),
        counter=counter,
    )


def _sandbox_options(webhook_url: str) -> Mapping[str, Any]:
    return {
        "access_token": DEMO_TOKEN,
        "signature_key": DEMO_SIGNATURE_KEY,
        "webhook_url": webhook_url,
    }


def _point_at_sandbox(settings: SquareSettings, target: SandboxTarget) -> SquareSettings:
    return settings.model_copy(
        update={
            "base_url": target.url,
            "access_token": SecretStr(DEMO_TOKEN),
            "webhook_signature_key": SecretStr(DEMO_SIGNATURE_KEY),
            "webhook_url": target.webhook_url,
            # Each Square store onto its twin in the vendor that ranks first for locations
            # (Shopify in the built-in demo), unless the settings already map them.
            "location_map": settings.location_map or _location_map(target),
        }
    )


def _location_map(target: SandboxTarget) -> dict[str, str]:
    return {
        own[len(PREFIX) :]: home
        for code, ids in target.own_locations.items()
        if (home := target.home_locations.get(code))
        for own in ids
        if own.startswith(PREFIX) and own != home
    }


def _store_locations(store: Any) -> list[str]:
    # The store's own unified id in Square, before the demo maps it onto its twin.
    return [PREFIX + store.square_location_id] if store.square_location_id else []


VENDOR = Vendor(
    source=SOURCE,
    settings=SquareSettings,
    build=build,
    # Cashiers create a new Square customer per store for the same person.
    identity_limit=10,
    # A POS record is often typed by a cashier, and Square's copy of a store says less.
    name_precedence=30,
    location_precedence=20,
    # The POS counts the shelves of the stores that run it.
    stock_precedence=10,
    sandbox=DemoSandbox(
        factory="sandboxes.square:create_sandbox",
        options=_sandbox_options,
        configure=_point_at_sandbox,
        store_locations=_store_locations,
    ),
)
