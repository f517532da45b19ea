"""The Klaviyo sandbox's tests share the connector tests' harness (a sandbox per test whose
every exchange is validated against Klaviyo's OpenAPI documents): one definition, in
``tests/connectors/klaviyo/conftest.py``."""

from tests.connectors.klaviyo.conftest import (
    connector,
    contract,
    make_connector,
    make_sandbox,
    sandbox,
    world,
)

__all__ = ["connector", "contract", "make_connector", "make_sandbox", "sandbox", "world"]
