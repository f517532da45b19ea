"""Klaviyo's settings: ``OMNIGATE_KLAVIYO_<FIELD>``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from connectors.vendor import VendorSettings


class KlaviyoSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIGATE_KLAVIYO_")

    base_url: str = Field("https://a.klaviyo.com", description="Klaviyo API base URL.")
    api_key: SecretStr | None = Field(None, description="Private API key.")
    revision: str = Field("2026-07-15", description="`revision` header.")
    engagement_days: int = Field(
        90, ge=1, le=3650, description="Days of email opens and clicks read for engagement."
    )
    max_connections: int | None = Field(
        None, ge=1, description="Connections to Klaviyo at once; unset: the connector's 20."
    )

    def has_credentials(self) -> bool:
        return bool(self.api_key)
