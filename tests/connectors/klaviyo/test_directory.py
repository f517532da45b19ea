"""Listing every profile for sync (MarketingDirectory)."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.capabilities import MarketingDirectory
from connectors.http import HttpConfig
from connectors.klaviyo.connector import KlaviyoConfig, KlaviyoConnector
from connectors.metrics import RequestCounter
from sandboxes.base.server import run_app
from sandboxes.demo import generate
from sandboxes.klaviyo import create_sandbox


async def test_list_profiles_pages_through_everyone_and_filters_by_update() -> None:
    world = generate(people=150, seed=3)
    async with run_app(create_sandbox(world, api_key="pk_test")) as url:
        counter = RequestCounter()
        connector = KlaviyoConnector(
            KlaviyoConfig(http=HttpConfig(base_url=url), api_key="pk_test"), counter=counter
        )
        assert isinstance(connector, MarketingDirectory)
        await connector.start()
        try:
            pages = [page async for page in connector.list_profiles()]
            everyone = [p for page in pages for p in page]
            assert {p.id for p in everyone} == {p.id for p in world.klaviyo_profiles}
            assert counter.count(operation="list_profiles") == len(pages)
            assert len(pages) >= 2 or len(everyone) <= 100

            cutoff = sorted(p.updated for p in world.klaviyo_profiles)[len(everyone) // 2]
            recent = [
                p async for page in connector.list_profiles(updated_since=cutoff) for p in page
            ]
            expected = {p.id for p in world.klaviyo_profiles if p.updated > cutoff}
            assert {p.id for p in recent} == expected
            assert all(p.updated_at and p.updated_at > cutoff for p in recent)
            assert cutoff < datetime(2027, 1, 1, tzinfo=UTC)
        finally:
            await connector.close()
