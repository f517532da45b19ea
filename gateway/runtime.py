"""Builds the long-lived services from settings: the store, the enabled connectors, the bus.

Only construction happens here; connecting is the app lifespan's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from connectors.capabilities import Connector
from connectors.http import HttpConfig
from connectors.klaviyo import connector as klaviyo
from connectors.klaviyo.connector import KlaviyoConfig, KlaviyoConnector
from connectors.klaviyo.engagement import EngagementSettings
from connectors.metrics import RequestCounter
from connectors.registry import ConnectorSet
from connectors.shopify import connector as shopify
from connectors.shopify.connector import ShopifyConfig, ShopifyConnector
from connectors.square import connector as square
from connectors.square.connector import SquareConfig, SquareConnector
from connectors.webhooks import WebhookEndpoint
from gateway.settings import Settings
from gateway.store import MongoTimeouts, open_store
from resolvers.context import ResolverConfig, Services
from resolvers.events import EventBus


def _http(settings: Settings, base_url: str, headers: Mapping[str, str]) -> HttpConfig:
    return HttpConfig(
        base_url=base_url,
        connect_timeout=settings.http_connect_timeout,
        total_timeout=settings.http_total_timeout,
        max_retries=settings.http_max_retries,
        breaker_failures=settings.breaker_failures,
        breaker_reset=settings.breaker_reset_seconds,
        default_headers=dict(headers),
    )


def build_connectors(settings: Settings, counter: RequestCounter) -> ConnectorSet:
    """Every vendor whose credentials are set. The demo sets sandbox credentials."""
    connectors: list[Connector] = []
    if settings.shopify_access_token and (settings.shopify_base_url or settings.shopify_shop):
        base = settings.shopify_base_url or f"https://{settings.shopify_shop}"
        connectors.append(
            ShopifyConnector(
                ShopifyConfig(
                    http=_http(settings, base, {}),
                    access_token=settings.shopify_access_token.get_secret_value(),
                    api_version=settings.shopify_api_version,
                    webhook_secret=_secret(settings.shopify_webhook_secret),
                    # Stock webhooks name inventory items, not SKUs: know them from the start.
                    warm_sku_cache=True,
                    max_connections=settings.shopify_max_connections or shopify.MAX_CONNECTIONS,
                ),
                counter=counter,
            )
        )
    if settings.square_access_token:
        connectors.append(
            SquareConnector(
                SquareConfig(
                    http=_http(settings, settings.square_base_url, {}),
                    access_token=settings.square_access_token.get_secret_value(),
                    square_version=settings.square_version,
                    webhook_signature_key=_secret(settings.square_webhook_signature_key),
                    location_map=dict(settings.square_location_map),
                    default_phone_region=settings.default_phone_region,
                    max_connections=settings.square_max_connections or square.MAX_CONNECTIONS,
                ),
                counter=counter,
            )
        )
    if settings.klaviyo_api_key:
        connectors.append(
            KlaviyoConnector(
                KlaviyoConfig(
                    http=_http(settings, settings.klaviyo_base_url, {}),
                    api_key=settings.klaviyo_api_key.get_secret_value(),
                    revision=settings.klaviyo_revision,
                    engagement=EngagementSettings(
                        lookback=timedelta(days=settings.klaviyo_engagement_days)
                    ),
                    max_connections=settings.klaviyo_max_connections or klaviyo.MAX_CONNECTIONS,
                ),
                counter=counter,
            )
        )
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


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None
