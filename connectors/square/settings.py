"""Square's settings: ``OMNIGATE_SQUARE_<FIELD>``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from connectors.vendor import VendorSettings


class SquareSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIGATE_SQUARE_")

    base_url: str = Field("https://connect.squareup.com", description="Square API base URL.")
    access_token: SecretStr | None = Field(None, description="Square access token.")
    version: str = Field("2025-08-20", description="`Square-Version` header.")
    webhook_signature_key: SecretStr | None = Field(
        None, description="Signature key of the webhook subscription."
    )
    webhook_url: str | None = Field(
        None, description="Notification URL exactly as registered with Square (it is signed)."
    )
    location_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="JSON map of Square location id to unified location id.",
    )
    max_connections: int | None = Field(
        None, ge=1, description="Connections to Square at once; unset: the connector's 10."
    )

    @field_validator("location_map", mode="before")
    @classmethod
    def _parse_map(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def has_credentials(self) -> bool:
        return bool(self.access_token)
