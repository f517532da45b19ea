"""What a vendor package declares: one :class:`Vendor`, all the gateway needs to know of it.

Settings, the runtime, the app, health, the demo and the schema's ``Source`` enum loop over the
registered vendors (:mod:`connectors.vendors`) and read these declarations, so nothing outside
a vendor's package names it. A vendor package exports its declaration as ``VENDOR``.

The declaration says:

- its ``source`` (the name in ids, settings, logs and the schema);
- its ``settings``: a pydantic-settings model with the environment prefix
  ``OMNIGATE_<NAME>_``, read beside the gateway's own settings;
- ``build``: its connector from those settings and the gateway's shared ones, or ``None`` when
  its credentials are absent (the vendor is then off). The connector's ``webhooks`` attribute
  is its webhook endpoint (``None`` without a signing secret), served at
  ``/webhooks/<name>``;
- ``identity_limit``: the default of ``OMNIGATE_IDENTITY_LIMITS`` for it;
- ``name_precedence`` / ``location_precedence``: whose names and addresses, and whose
  description of a shared location, win (lower first);
- ``stock_precedence``: whose count of a shared location's stock is the count (lower first):
  a store that runs a POS counts its shelves in the POS, and the online store's copy of that
  location mirrors it at best;
- ``sandbox``: how the demo runs it against a local fake. The fake's factory is an import
  path that only the demo resolves: a connector never imports a sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opentelemetry.trace import Tracer
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.capabilities import Connector
from connectors.http import HttpConfig
from connectors.metrics import RequestCounter
from connectors.records import Source


class VendorSettings(BaseSettings):
    """Base of a vendor's settings model. A subclass sets its ``env_prefix``
    (``OMNIGATE_<NAME>_``, checked by :class:`Vendor`); like the gateway's own settings it
    also reads ``.env``."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    def has_credentials(self) -> bool:
        """Whether credentials are set: demo mode is on when no vendor has them."""
        return False


S = TypeVar("S", bound=VendorSettings)


@dataclass(frozen=True, slots=True)
class SharedConfig:
    """What every connector takes from the gateway's shared settings."""

    connect_timeout: float = 2.0
    total_timeout: float = 10.0
    max_retries: int = 3
    breaker_failures: int = 5
    breaker_reset: float = 30.0
    default_phone_region: str = "US"
    #: The gateway's tracer, for the spans of upstream calls (``None``: no spans).
    tracer: Tracer | None = None

    def http(self, base_url: str) -> HttpConfig:
        """The HTTP settings of a connector to ``base_url``."""
        return HttpConfig(
            base_url=base_url,
            connect_timeout=self.connect_timeout,
            total_timeout=self.total_timeout,
            max_retries=self.max_retries,
            breaker_failures=self.breaker_failures,
            breaker_reset=self.breaker_reset,
            default_headers={},
            tracer=self.tracer,
        )


@dataclass(frozen=True, slots=True)
class SandboxTarget:
    """Where the demo runs a vendor's sandbox: its base URL, the gateway's webhook URL for
    the vendor, and how many days ago the demo dataset's fixed "now" was (plus one).

    ``home_locations`` maps each demo store (by its code) to the one unified id the demo
    gives it, the id of the vendor that ranks first for locations; ``own_locations`` are the
    store's ids in this vendor (its ``store_locations``). A vendor whose copy of a store has
    another id maps it home (Square's ``location_map``), so a store that runs two systems is
    one location."""

    url: str
    webhook_url: str
    dataset_age_days: int = 0
    home_locations: Mapping[str, str] = field(default_factory=dict)
    own_locations: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DemoSandbox(Generic[S]):
    """How the demo runs a vendor against its fake.

    ``factory`` is ``"module:function"``, called by the demo as
    ``function(world, sandbox_clock=clock, **options(webhook_url))`` and returning an aiohttp
    application; ``options`` are the sandbox's keyword arguments (the demo credentials it
    accepts) given the URL it delivers webhooks to. ``configure`` points the vendor's settings
    at the running sandbox, with the same credentials. ``store_locations`` names a demo store's
    unified location ids in this vendor (for the demo's store-bound staff token).
    """

    factory: str
    options: Callable[[str], Mapping[str, Any]]
    configure: Callable[[S, SandboxTarget], S]
    store_locations: Callable[[Any], Sequence[str]] = field(default=lambda store: ())


@dataclass(frozen=True, slots=True)
class Vendor(Generic[S]):
    """One vendor, as its package declares it (see the module docstring)."""

    source: Source
    settings: type[S]
    build: Callable[[S, SharedConfig, RequestCounter], Connector | None]
    identity_limit: int
    name_precedence: int
    location_precedence: int | None = None
    stock_precedence: int | None = None
    sandbox: DemoSandbox[S] | None = None

    def __post_init__(self) -> None:
        prefix = self.settings.model_config.get("env_prefix")
        if prefix != self.env_prefix:
            raise ValueError(
                f"{self.settings.__name__} reads {prefix!r}: a vendor's settings read "
                f"{self.env_prefix!r}"
            )

    @property
    def name(self) -> str:
        return self.source.value

    @property
    def env_prefix(self) -> str:
        return f"OMNIGATE_{self.name.upper()}_"

    def load_settings(self, values: Mapping[str, Any] | VendorSettings | None, **env: Any) -> S:
        """The vendor's settings: ``values`` over its environment variables (``env`` passes
        ``_env_file`` on, as the gateway's settings were given it)."""
        if isinstance(values, self.settings):
            return values
        if isinstance(values, VendorSettings):
            raise TypeError(f"{type(values).__name__} are not {self.name}'s settings")
        return self.settings(**env, **dict(values or {}))


def secret(value: SecretStr | None) -> str | None:
    """A secret setting's value, ``None`` when unset."""
    return value.get_secret_value() if value is not None else None
