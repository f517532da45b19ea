"""Lightspeed's settings: ``OMNIGATE_LIGHTSPEED_<FIELD>``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from connectors.vendor import VendorSettings


class LightspeedSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIGATE_LIGHTSPEED_")

    base_url: str = Field("https://api.lightspeed.example", description="Lightspeed API URL.")
    api_key: SecretStr | None = Field(None, description="Lightspeed API key.")
    webhook_secret: SecretStr | None = Field(None, description="Secret that signs webhooks.")

    def has_credentials(self) -> bool:
        return bool(self.api_key)
