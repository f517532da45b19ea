"""The Shopify sandbox's tests share the connector tests' harness (a sandbox per test on a
loopback port, over the session's demo world): one definition, in
``tests/connectors/shopify/conftest.py``."""

from tests.connectors.shopify.conftest import start_shop, world

__all__ = ["start_shop", "world"]
