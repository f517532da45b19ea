from __future__ import annotations

import pytest

from gateway.settings import DEMO_TOKENS, Settings
from tests.support import make_settings


def test_no_credentials_means_demo_mode_with_demo_tokens() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.demo_mode
    grants = settings.token_grants()
    assert set(DEMO_TOKENS) <= set(grants)
    assert grants["demo-staff"].locations == ["*"]


def test_credentials_turn_demo_off_and_demo_tokens_are_refused() -> None:
    settings = make_settings(demo=None, shopify={"access_token": "shpat_x", "shop": "a.b"})
    assert not settings.demo_mode
    assert "demo-internal" not in settings.token_grants()


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017")
    monkeypatch.setenv("OMNIGATE_TOKENS", '{"t1": {"role": "staff", "locations": ["store-1"]}}')
    monkeypatch.setenv("OMNIGATE_SQUARE_LOCATION_MAP", '{"LSQ1": "shopify:1"}')
    monkeypatch.setenv("OMNIGATE_MAX_DEPTH", "7")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.mongodb_uri is not None
    assert settings.mongodb_uri.get_secret_value() == "mongodb://db.example:27017"
    assert settings.tokens["t1"].locations == ["store-1"]
    assert settings.vendor("square").location_map == {"LSQ1": "shopify:1"}
    assert settings.max_depth == 7


def test_secrets_never_appear_in_repr() -> None:
    settings = make_settings(shopify={"access_token": "shpat_supersecret"})
    assert "shpat_supersecret" not in repr(settings)
    assert "shpat_supersecret" not in str(settings.model_dump())
    shopify = settings.vendor("shopify")
    assert shopify.access_token.get_secret_value() == "shpat_supersecret"
    assert "shpat_supersecret" not in repr(shopify)
    assert "shpat_supersecret" not in str(shopify.model_dump())


def test_production_turns_graphiql_and_introspection_off() -> None:
    settings = make_settings(environment="production")
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled


def test_scheduled_sync_runs_every_five_minutes_every_thirty_seconds_in_the_demo() -> None:
    production = make_settings(
        demo=None, sync_interval_seconds=None, shopify={"access_token": "shpat_x", "shop": "a.b"}
    )
    assert production.sync_interval == 300.0
    assert make_settings(demo=True, sync_interval_seconds=None).sync_interval == 30.0
    assert make_settings(demo=True, sync_interval_seconds=0).sync_interval == 0.0
    with pytest.raises(ValueError, match="greater than or equal"):
        make_settings(sync_interval_seconds=-1)


def test_the_stock_bus_follows_the_store_unless_set() -> None:
    assert make_settings().stock_bus_kind == "local"
    mongo = make_settings(mongodb_uri="mongodb://db.example:27017")
    assert mongo.stock_bus_kind == "mongo"
    assert make_settings(mongodb_uri="mongodb://db", stock_bus="local").stock_bus_kind == "local"
    assert not mongo.startup_problems()


def test_a_change_stream_bus_without_mongodb_is_refused_at_start_up() -> None:
    problems = make_settings(stock_bus="mongo").startup_problems()
    assert any("OMNIGATE_STOCK_BUS" in p and "MONGODB_URI" in p for p in problems)


def test_the_in_memory_app_has_no_stock_feed_and_publishes_locally() -> None:
    from gateway.app import create_app
    from resolvers.stock.changes import STOCK_TOPIC

    app = create_app(make_settings(stock_subscriber_queue=7))
    assert app.state.stock_feed is None
    assert not app.state.services.events.is_fed(STOCK_TOPIC)
    assert app.state.services.events.queue_size == 7
