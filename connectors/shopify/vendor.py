"""Shopify's declaration: its settings, its connector, its place among the sources and how
the demo runs it against :mod:`sandboxes.shopify`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from connectors.metrics import RequestCounter
from connectors.shopify.connector import MAX_CONNECTIONS, ShopifyConfig, ShopifyConnector
from connectors.shopify.ids import location_id
from connectors.shopify.settings import ShopifySettings
from connectors.shopify.source import SOURCE
from connectors.vendor import DemoSandbox, SandboxTarget, SharedConfig, Vendor, secret

#: Credentials the demo's sandbox accepts. They only ever guard a loopback fake.
DEMO_TOKEN = "shpat_demo_token"
DEMO_WEBHOOK_SECRET = "demo-shopify-webhook-secret"


def build(
    settings: ShopifySettings, shared: SharedConfig, counter: RequestCounter
) -> ShopifyConnector | None:
    if not (settings.access_token and (settings.base_url or settings.shop)):
        return None
    base = settings.base_url or f"https://{settings.shop}"
    return ShopifyConnector(
        ShopifyConfig(
            http=shared.http(base),
            access_token=settings.access_token.get_secret_value(),
            api_version=settings.api_version,
            webhook_secret=secret(settings.webhook_secret),
            # Stock webhooks name inventory items, not SKUs: the gateway's catalog map names
            # them (adopt_sku_map) once it is built at start, so no second map is read here.
            warm_sku_cache=False,
            max_connections=settings.max_connections or MAX_CONNECTIONS,
        ),
        counter=counter,
    )


def _sandbox_options(webhook_url: str) -> Mapping[str, Any]:
    return {
        "access_token": DEMO_TOKEN,
        "webhook_secret": DEMO_WEBHOOK_SECRET,
        "webhook_url": webhook_url,
        # Shopify Plus's bucket (1,000 points/s): the demo's start-up backfill of every
        # customer's orders then takes seconds, not the minute a Standard shop needs.
        "restore_rate": 1000.0,
    }


def _point_at_sandbox(settings: ShopifySettings, target: SandboxTarget) -> ShopifySettings:
    return settings.model_copy(
        update={
            "shop": "omnigate-demo.myshopify.com",
            "base_url": target.url,
            "access_token": SecretStr(DEMO_TOKEN),
            "webhook_secret": SecretStr(DEMO_WEBHOOK_SECRET),
        }
    )


def _store_locations(store: Any) -> list[str]:
    return [location_id(store.shopify_location_id)]


VENDOR = Vendor(
    source=SOURCE,
    settings=ShopifySettings,
    build=build,
    # Shopify enforces unique emails: two Shopify customers are two people.
    identity_limit=1,
    # The online store is where people type their names and addresses themselves, and it
    # knows a location's address and pickup settings best.
    name_precedence=10,
    location_precedence=10,
    stock_precedence=20,
    sandbox=DemoSandbox(
        factory="sandboxes.shopify:create_sandbox",
        options=_sandbox_options,
        configure=_point_at_sandbox,
        store_locations=_store_locations,
    ),
)
