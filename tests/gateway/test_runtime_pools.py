"""Each vendor's connection pool is sized from its own limits (the connector's default), and a
setting can override it."""

from __future__ import annotations

from typing import Any

from connectors.http import HttpClient
from connectors.metrics import RequestCounter
from gateway.runtime import build_connectors, build_services
from tests.support import make_settings

CREDENTIALS: dict[str, dict[str, Any]] = {
    "shopify": {"shop": "acme.myshopify.com", "access_token": "shpat_x"},
    "square": {"access_token": "sq_x"},
    "klaviyo": {"api_key": "pk_x"},
}


def pool_sizes(**overrides: dict[str, Any]) -> dict[str, int]:
    vendors = {name: {**given, **overrides.get(name, {})} for name, given in CREDENTIALS.items()}
    connectors = build_connectors(make_settings(**vendors), RequestCounter())
    sizes: dict[str, int] = {}
    for connector in connectors:
        http = getattr(connector, "http", None) or connector.client.http  # type: ignore[attr-defined]
        assert isinstance(http, HttpClient)
        sizes[str(connector.source)] = http.config.max_connections
    return sizes


def test_each_vendor_has_a_pool_of_its_own_size() -> None:
    assert pool_sizes() == {"shopify": 10, "square": 10, "klaviyo": 20}


def test_settings_override_a_vendors_pool() -> None:
    assert pool_sizes(
        shopify={"max_connections": 3},
        square={"max_connections": 4},
        klaviyo={"max_connections": 5},
    ) == {"shopify": 3, "square": 4, "klaviyo": 5}


def test_the_refresh_deadline_reaches_the_customer_service() -> None:
    services = build_services(make_settings(refresh_deadline_seconds=12.5), version="test")
    assert services.customers.refresh_deadline == 12.5
