"""Builds the long-lived services from settings: the store, the enabled connectors, the bus.

Only construction happens here; connecting is the app lifespan's job.
"""

from __future__ import annotations

from datetime import timedelta

from connectors import vendors as registry
from connectors.capabilities import Connector
from connectors.metrics import RequestCounter
from connectors.registry import ConnectorSet
from connectors.vendor import SharedConfig
from connectors.webhooks import WebhookEndpoint
from gateway.settings import Settings
from gateway.store import MongoTimeouts, open_store
from resolvers.context import ResolverConfig, Services
from resolvers.events import EventBus


def shared_config(settings: Settings) -> SharedConfig:
    """What every connector takes from the gateway's own settings."""
    return SharedConfig(
        connect_timeout=settings.http_connect_timeout,
        total_timeout=settings.http_total_timeout,
        max_retries=settings.http_max_retries,
        breaker_failures=settings.breaker_failures,
        breaker_reset=settings.breaker_reset_seconds,
        default_phone_region=settings.default_phone_region,
    )


def build_connectors(settings: Settings, counter: RequestCounter) -> ConnectorSet:
    """Every registered vendor whose credentials are set, in registration order. The demo
    sets sandbox credentials."""
    shared = shared_config(settings)
    connectors: list[Connector] = []
    for vendor in registry.vendors():
        vendor_settings = settings.vendors.get(vendor.name)
        if vendor_settings is None:  # registered after these settings were made
            continue
        connector = vendor.build(vendor_settings, shared, counter)
        if connector is not None:
            connectors.append(connector)
    return ConnectorSet(connectors)


def webhook_endpoints(connectors: ConnectorSet) -> dict[str, WebhookEndpoint]:
    """The webhook endpoint of each connector that has a signing secret configured."""
    endpoints: dict[str, WebhookEndpoint] = {}
    for connector in connectors:
        endpoint = getattr(connector, "webhooks", None)
        if endpoint is not None:
            endpoints[str(connector.source)] = endpoint
    return endpoints


def build_services(
    settings: Settings, *, version: str, counter: RequestCounter | None = None
) -> Services:
    uri = settings.mongodb_uri.get_secret_value() if settings.mongodb_uri else None
    return Services(
        store=open_store(
            uri,
            settings.mongodb_database,
            receipt_retention=timedelta(days=settings.webhook_receipt_ttl_days),
            dead_letter_retention=timedelta(days=settings.webhook_dead_letter_ttl_days),
            timeouts=MongoTimeouts(
                server_selection=settings.mongodb_server_selection_timeout,
                connect=settings.mongodb_connect_timeout,
                operation=settings.mongodb_timeout,
            ),
        ),
        connectors=build_connectors(settings, counter or RequestCounter()),
        events=EventBus(),
        config=ResolverConfig(
            max_page_size=settings.max_page_size,
            default_phone_region=settings.default_phone_region,
            profile_ttl_seconds=settings.profile_ttl_seconds,
            refresh_deadline_seconds=settings.refresh_deadline_seconds,
            placeholder_emails=tuple(v for v in settings.placeholder_emails if "@" in v),
            placeholder_phones=tuple(v for v in settings.placeholder_emails if "@" not in v),
            placeholder_threshold=settings.placeholder_threshold,
            identity_limits=tuple(sorted(settings.identity_limits.items())),
        ),
        version=version,
        demo_mode=settings.demo_mode,
    )
