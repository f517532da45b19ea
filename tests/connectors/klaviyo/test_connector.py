"""The connector's interface as the gateway sees it."""

from __future__ import annotations

from connectors.capabilities import (
    Connector,
    CustomerSource,
    MarketingSink,
    MarketingSource,
)
from connectors.http import HttpConfig
from connectors.klaviyo.client import auth_headers
from connectors.klaviyo.connector import DEFAULT_REVISION, KlaviyoConfig, KlaviyoConnector
from connectors.metrics import RequestCounter
from connectors.records import Source
from connectors.registry import ConnectorSet
from tests.connectors.klaviyo.conftest import API_KEY, Sandbox


def build(base_url: str, counter: RequestCounter) -> KlaviyoConnector:
    """Exactly how ``gateway/runtime.py`` constructs it."""
    return KlaviyoConnector(
        KlaviyoConfig(
            http=HttpConfig(base_url=base_url, default_headers={}),
            api_key=API_KEY,
            revision="2026-07-15",
        ),
        counter=counter,
    )


def test_implements_marketing_source_and_sink_and_no_webhooks() -> None:
    connector = build("https://a.klaviyo.com", RequestCounter())
    assert isinstance(connector, Connector)
    assert isinstance(connector, MarketingSource)
    assert isinstance(connector, MarketingSink)
    assert not isinstance(connector, CustomerSource)
    assert connector.source is Source("klaviyo")
    assert connector.webhooks is None
    assert connector.circuit_state() == "closed"
    assert DEFAULT_REVISION == "2026-07-15"
    assert ConnectorSet([connector]).of(MarketingSink) == [connector]


def test_every_call_carries_the_key_revision_and_json_api_media_type() -> None:
    connector = build("https://a.klaviyo.com", RequestCounter())
    assert connector.http.config.default_headers == {
        "Authorization": f"Klaviyo-API-Key {API_KEY}",
        "revision": "2026-07-15",
        "Accept": "application/vnd.api+json",
    }
    assert auth_headers("k", "2025-01-15")["revision"] == "2025-01-15"


async def test_started_through_the_registry_it_reads_and_shares_the_counter(
    sandbox: Sandbox,
) -> None:
    counter = RequestCounter()
    connectors = ConnectorSet([build(sandbox.url, counter)])
    await connectors.start()
    try:
        (marketing,) = connectors.of(MarketingSource)
        profiles = await marketing.profiles(emails=["person0@example.com"])
        assert [p.email for p in profiles] == ["person0@example.com"]
        assert counter.count("klaviyo", "get_profiles") == 1
    finally:
        await connectors.close()
