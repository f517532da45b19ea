"""The vendor registry and the declarations it holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic_settings import SettingsConfigDict

from connectors import vendors as registry
from connectors.records import Source
from connectors.shopify import VENDOR as SHOPIFY
from connectors.vendor import Vendor, VendorSettings


class TinySettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIGATE_TINY_")

    token: str | None = None


TINY = Vendor(
    source=Source("tiny"),
    settings=TinySettings,
    build=lambda settings, shared, counter: None,
    identity_limit=2,
    name_precedence=15,
    location_precedence=None,
)


@pytest.fixture
def tiny() -> Iterator[Vendor[TinySettings]]:
    registry.register(TINY)
    yield TINY
    registry.unregister(TINY)


def test_the_built_ins_are_registered_in_order() -> None:
    assert registry.names() == ["shopify", "square", "klaviyo"]
    assert registry.get("square") is registry.vendors()[1]
    assert registry.identity_limits() == {"shopify": 1, "square": 10, "klaviyo": 3}


def test_a_registered_vendor_comes_after_the_built_ins_until_unregistered() -> None:
    registry.register(TINY)
    try:
        assert registry.names() == ["shopify", "square", "klaviyo", "tiny"]
        assert registry.identity_limits()["tiny"] == 2
    finally:
        registry.unregister(TINY)
    assert registry.names() == ["shopify", "square", "klaviyo"]
    assert registry.get("tiny") is None


def test_a_name_is_registered_once(tiny: Vendor[TinySettings]) -> None:
    with pytest.raises(ValueError, match="registered already"):
        registry.register(TINY)
    with pytest.raises(ValueError, match="registered already"):
        registry.register(replace(SHOPIFY))


def test_precedence_ranks_by_declaration_then_registration(tiny: Vendor[TinySettings]) -> None:
    names = registry.name_precedence()
    ordered = sorted(names, key=names.__getitem__)
    assert ordered == [Source("shopify"), Source("tiny"), Source("klaviyo"), Source("square")]
    locations = registry.location_precedence()
    ordered = sorted(locations, key=locations.__getitem__)
    # Vendors without a location precedence come after those with one, in registration order.
    assert ordered == [Source("shopify"), Source("square"), Source("klaviyo"), Source("tiny")]
    assert Source("unknown") not in names
    assert all(rank < registry.LAST for rank in locations.values())


def test_a_vendors_settings_read_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIGATE_TINY_TOKEN", "from-env")
    assert TINY.load_settings(None, _env_file=None).token == "from-env"
    assert TINY.load_settings({"token": "given"}, _env_file=None).token == "given"
    own = TinySettings(_env_file=None, token="model")  # type: ignore[call-arg]
    assert TINY.load_settings(own) is own
    with pytest.raises(TypeError, match="not tiny's settings"):
        TINY.load_settings(SHOPIFY.settings(_env_file=None))


def test_a_declaration_with_another_prefix_is_refused() -> None:
    class Elsewhere(VendorSettings):
        model_config = SettingsConfigDict(env_prefix="TINY_")

    with pytest.raises(ValueError, match="OMNIGATE_TINY_"):
        replace(TINY, settings=Elsewhere)
