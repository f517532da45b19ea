"""Shopify's settings: ``OMNIGATE_SHOPIFY_<FIELD>``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from connectors.vendor import VendorSettings


class ShopifySettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIGATE_SHOPIFY_")

    shop: str | None = Field(None, description="Shop domain, e.g. `acme.myshopify.com`.")
    base_url: str | None = Field(
        None, description="Override of `https://{shop}` (the demo points it at the sandbox)."
    )
    access_token: SecretStr | None = Field(None, description="Admin API access token.")
    api_version: str = Field("2026-01", description="Admin GraphQL API version.")
    webhook_secret: SecretStr | None = Field(
        None, description="App client secret that signs webhooks."
    )
    max_connections: int | None = Field(
        None, ge=1, description="Connections to Shopify at once; unset: the connector's 10."
    )

    def has_credentials(self) -> bool:
        return bool(self.access_token)
