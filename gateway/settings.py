"""The one settings object. Nothing else in the code base reads ``os.environ``.

Every field maps to an environment variable ``OMNIGATE_<FIELD>`` (also read from ``.env``),
except ``MONGODB_URI``, which keeps the name every MongoDB tool uses. Each registered vendor's
settings are its own package's model (:class:`connectors.vendor.VendorSettings`), read from
``OMNIGATE_<VENDOR>_<FIELD>`` beside these and reached with :meth:`Settings.vendor`. The
README's configuration reference is generated from both (see
``tests/gateway/test_settings_reference.py``, which keeps them in step).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, PrivateAttr, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from connectors import vendors as registry
from connectors.vendor import VendorSettings

#: The tokens demo mode accepts, printed at start. Not secrets: the demo has no real data.
DEMO_TOKENS: dict[str, dict[str, Any]] = {
    "demo-storefront": {"role": "storefront"},
    "demo-staff": {"role": "staff", "locations": ["*"]},
    "demo-internal": {"role": "internal"},
}
#: The customer-token secret outside production when none is set. Printed in docs/demo.md,
#: so production refuses it (see :meth:`Settings.startup_problems`).
DEMO_CUSTOMER_TOKEN_SECRET = "demo-customer-secret-change-me-0123456789"
#: Shortest secret per HMAC algorithm: the hash's size (RFC 7518, section 3.2).
MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


class StartupError(Exception):
    """The settings are unsafe or contradictory; the message names every problem and the
    setting that fixes it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Omnigate will not start:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


#: The roles a caller can have (a bearer token's, or none).
CallerRole = Literal["anonymous", "storefront", "staff", "internal"]


class TokenGrant(BaseModel):
    """What one bearer token may do. ``locations`` (staff only) lists unified location ids;
    ``"*"`` means every location."""

    role: Literal["storefront", "staff", "internal"]
    locations: list[str] = Field(default_factory=list)
    name: str | None = None


class TierSetting(BaseModel):
    """A loyalty tier: from ``threshold`` of qualifying spend, orders earn ``multiplier`` times."""

    name: str = Field(min_length=1)
    threshold: Decimal = Field(ge=0)
    multiplier: Decimal = Field(Decimal(1), ge=0)


class Settings(BaseSettings):
    """The gateway's own settings, and each registered vendor's (its model, with the prefix
    ``OMNIGATE_<VENDOR>_``).

    A vendor's values may be given by its name: ``Settings(square={"access_token": "…"})``
    (a mapping of that vendor's fields, or its settings model); the rest of its fields come
    from the environment, as the gateway's own do.
    """

    model_config = SettingsConfigDict(
        env_prefix="OMNIGATE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    _vendors: dict[str, VendorSettings] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        given = {v.name: values.pop(v.name) for v in registry.vendors() if v.name in values}
        env = {k: values[k] for k in ("_env_file", "_env_file_encoding") if k in values}
        super().__init__(**values)
        self._vendors = {
            v.name: v.load_settings(given.get(v.name), **env) for v in registry.vendors()
        }

    # --- serving ------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Interface the server binds to.")
    port: int = Field(8000, description="Port the server listens on.")
    environment: Literal["development", "production"] = Field(
        "development", description="`production` turns GraphiQL and introspection off by default."
    )
    graphiql: bool | None = Field(
        None, description="Serve GraphiQL (default: on outside production)."
    )
    graphiql_assets: Literal["local", "cdn"] = Field(
        "local",
        description="Where GraphiQL's page loads its scripts: `local`, from the gateway "
        "(installed by `make demo` or `npm ci --prefix web/graphiql`; works offline), or "
        "`cdn`, from unpkg.com (the browser needs internet access).",
    )
    introspection: bool | None = Field(
        None, description="Allow introspection (default: on outside production)."
    )
    metrics_enabled: bool = Field(
        True,
        description="Serve Prometheus metrics at `/metrics` (no token: keep the path off "
        "the public load balancer, as `/readyz`).",
    )
    cors_origins: Annotated[list[str] | None, NoDecode] = Field(
        None,
        description="Origins whose pages may call the gateway (comma-separated, `*` for any);"
        " default: any in demo mode, none otherwise.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="`auto`: readable on a terminal, JSON otherwise."
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "OMNIGATE_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        description="OpenTelemetry collector (OTLP/HTTP, e.g. `http://collector:4318`): "
        "traces are sent to `<endpoint>/v1/traces`. Also read from the standard "
        "`OTEL_EXPORTER_OTLP_ENDPOINT`. Unset: no traces are exported.",
    )
    otel_service_name: str = Field(
        "omnigate",
        validation_alias=AliasChoices("OMNIGATE_OTEL_SERVICE_NAME", "OTEL_SERVICE_NAME"),
        description="`service.name` of the exported traces (also read from `OTEL_SERVICE_NAME`).",
    )

    # --- auth ---------------------------------------------------------------------------------
    tokens: Annotated[dict[str, TokenGrant], NoDecode] = Field(
        default_factory=dict,
        description='Bearer tokens as JSON: `{"<token>": {"role": "staff", "locations": ["…"]}}`.',
    )
    customer_token_secret: SecretStr | None = Field(
        None,
        description="Secret that signs storefront customer tokens (JWT); required in "
        "production. Unset outside production: the demo secret of docs/demo.md.",
    )
    customer_token_algorithm: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", description="The one algorithm customer tokens may be signed with."
    )
    customer_token_max_lifetime_seconds: int = Field(
        86_400,
        ge=60,
        description="Longest a customer token may live (`exp` minus `iat`, or minus now).",
    )
    router_token: SecretStr | None = Field(
        None,
        description="Bearer token of the federation router; in production `_service` needs "
        "it (or an internal token).",
    )

    trusted_documents: str | None = Field(
        None,
        description="Path of a trusted documents manifest (Apollo's persisted query manifest, "
        "or a JSON map of id to operation text): the roles in `trusted_documents_roles` may "
        "run only its operations (`PERSISTED_QUERY_NOT_IN_LIST` otherwise). Set it in "
        "production for the storefront's public token.",
    )
    trusted_documents_roles: Annotated[list[CallerRole], NoDecode] = Field(
        default_factory=lambda: list[CallerRole](["storefront"]),
        description="Roles held to the trusted documents manifest (comma-separated).",
    )

    # --- GraphQL limits -----------------------------------------------------------------------
    max_depth: int = Field(12, description="Deepest selection allowed.")
    max_aliases: int = Field(30, description="Most aliases in one document.")
    max_tokens: int = Field(5000, description="Most lexical tokens in one document.")
    max_page_size: int = Field(100, description="Largest `first` any list field accepts.")
    max_body_bytes: int = Field(1_000_000, description="Largest request body, in bytes.")

    cache_max_age_stock_seconds: int = Field(
        5,
        ge=0,
        description="`Cache-Control` max-age of public stock answers (0: `no-store`); "
        "see docs/http.md.",
    )
    cache_max_age_catalog_seconds: int = Field(
        60, ge=0, description="… of public product variant answers."
    )
    cache_max_age_locations_seconds: int = Field(
        300, ge=0, description="… of public location answers."
    )
    cache_max_age_program_seconds: int = Field(
        300, ge=0, description="… of the loyalty programme's rules."
    )

    # --- store --------------------------------------------------------------------------------
    mongodb_uri: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("MONGODB_URI", "OMNIGATE_MONGODB_URI"),
        description="MongoDB connection string; unset: in-memory store.",
    )
    mongodb_database: str = Field("omnigate", description="Database name.")
    mongodb_timeout: float = Field(
        2.0,
        gt=0,
        description="Seconds one store operation may take in all (PyMongo's `timeoutMS`: "
        "server selection, round trips, retries): how soon a call fails with "
        "`STORE_UNAVAILABLE` while the store is down. Options in `MONGODB_URI` win.",
    )
    mongodb_server_selection_timeout: float = Field(
        2.0,
        gt=0,
        description="Seconds to find a MongoDB server for the driver's own work outside an "
        "operation (`serverSelectionTimeoutMS`).",
    )
    mongodb_connect_timeout: float = Field(
        2.0, gt=0, description="Seconds to open one connection to MongoDB (`connectTimeoutMS`)."
    )
    mongodb_init_retry_seconds: float = Field(
        5.0,
        gt=0,
        description="A store unreachable at start-up is retried this often; the gateway "
        "serves meanwhile (`/readyz` 503).",
    )

    # --- identity and cache -------------------------------------------------------------------
    default_phone_region: str = Field("US", description="Region for phones without a country code.")
    profile_ttl_seconds: int = Field(300, description="A cached profile is fresh this long.")
    webhook_receipt_ttl_days: int = Field(
        7, description="How long webhook ids are kept for dedupe."
    )
    webhook_deadline_seconds: float = Field(
        4.0,
        gt=0,
        description="Seconds a webhook delivery may spend on its events before it is answered "
        "(Shopify waits five); profile rebuilds it started finish in the background.",
    )
    webhook_dead_letter_ttl_days: int = Field(
        14,
        ge=1,
        description="How long webhook bodies that could not be applied are kept for replay "
        "(they hold personal data; see docs/runbooks.md).",
    )

    # --- live stock (stockChanged) -------------------------------------------------------------
    stock_bus: Literal["auto", "local", "mongo"] = Field(
        "auto",
        description="Where `stockChanged` subscribers hear of changes: `local` (this process's "
        "writes only), `mongo` (a change stream on the stock journal: every replica's writes), "
        "`auto` (`mongo` with `MONGODB_URI`, else `local`).",
    )
    stock_subscriber_queue: int = Field(
        256,
        ge=1,
        description="Stock changes one subscriber may have waiting; a subscriber further behind "
        "gets a resync marker instead.",
    )

    # --- deadlines ----------------------------------------------------------------------------
    query_deadline_seconds: float = Field(
        5.0,
        gt=0,
        description="Seconds a query (HTTP or WebSocket) may take: upstream parts still "
        "unanswered then are `null` with `UPSTREAM_TIMEOUT`, the rest is returned.",
    )
    mutation_deadline_seconds: float = Field(
        15.0,
        gt=0,
        description="Seconds a mutation may take (longer: its writes and the rebuild after them "
        "should finish rather than stop half-way).",
    )
    refresh_deadline_seconds: float = Field(
        30.0,
        gt=0,
        description="Seconds one profile rebuild may take. It runs on after the request that "
        "asked for it gives up, so it can still fill the cache.",
    )

    # --- sync and identity resolution ---------------------------------------------------------
    sync_on_start: bool | None = Field(
        None, description="Backfill customers when the app starts (default: on in demo mode)."
    )
    sync_interval_seconds: float | None = Field(
        None,
        ge=0,
        description="Seconds between incremental customer syncs (each source since its "
        "checkpoint); `0` turns them off (default: 300, 30 in demo mode).",
    )
    sync_overlap_seconds: float = Field(
        120.0,
        ge=0,
        description="An incremental sync re-reads this long before each source's checkpoint "
        "(search index lag, clock skew).",
    )
    placeholder_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra placeholder emails/phones that never merge anyone (comma-separated).",
    )
    placeholder_threshold: int = Field(
        5, description="A contact value shared by more people than this is a placeholder."
    )
    identity_limits: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=registry.identity_limits,
        description="JSON: most records of one source in one profile (default: each vendor's own).",
    )

    # --- pickup holds -------------------------------------------------------------------------
    hold_max_quantity: int = Field(10, ge=1, description="Most units one pickup hold may reserve.")
    hold_ttl_minutes: int = Field(
        30, ge=1, description="How long a pickup hold lasts when `ttlMinutes` is not given."
    )
    hold_ttl_min_minutes: int = Field(5, ge=1, description="Shortest `ttlMinutes` a hold accepts.")
    hold_ttl_max_minutes: int = Field(
        1440, ge=1, description="Longest `ttlMinutes` a hold accepts."
    )
    hold_settle_timeout_minutes: int = Field(
        60,
        ge=1,
        description="A completed (picked-up) hold keeps its units held until the vendor's "
        "count shows the sale, or this long after completion.",
    )
    hold_sweep_interval_seconds: float = Field(
        15.0,
        ge=0,
        description="Seconds between sweeps that expire due holds and settle timed-out "
        "completed ones; `0` turns the sweeper off.",
    )

    # --- loyalty -------------------------------------------------------------------------------
    loyalty_earn_rate: Decimal = Field(
        Decimal(1),
        ge=0,
        description="Points per currency unit of an order's net paid amount, before the "
        "tier's multiplier.",
    )
    loyalty_tiers: Annotated[list[TierSetting], NoDecode] = Field(
        default_factory=lambda: [
            TierSetting(name="Member", threshold=Decimal(0), multiplier=Decimal(1)),
            TierSetting(name="Silver", threshold=Decimal(500), multiplier=Decimal("1.25")),
            TierSetting(name="Gold", threshold=Decimal(1500), multiplier=Decimal("1.5")),
        ],
        description="JSON list of tiers by rising threshold: qualifying spend of the last 12 "
        "months from which a member is in the tier, and the multiplier of what they earn; the "
        "first starts at 0.",
    )
    loyalty_return_window_days: int = Field(
        0,
        ge=0,
        description="Days an order's points stay pending (not spendable) before they settle; "
        "`0`: at once.",
    )
    loyalty_allow_negative: bool = Field(
        False,
        description="Whether a refund's clawback may take a balance below zero (else it stops "
        "at zero and records the shortfall).",
    )
    loyalty_expiry_days: int = Field(
        365, ge=0, description="Points lapse after this many days without a movement; `0`: never."
    )
    loyalty_referral_bonus: int = Field(
        500, ge=0, description="Points each side of a referral gets, once."
    )
    loyalty_expiry_sweep_seconds: float = Field(
        3600.0,
        ge=0,
        description="Seconds between sweeps that let points lapse after "
        "`loyalty_expiry_days` without a movement; `0` turns the sweeper off.",
    )
    loyalty_sync_interval_seconds: float = Field(
        2.0,
        ge=0,
        description="Seconds the email-tool property sync collects changed accounts before "
        "it sends them in one batch (Klaviyo `omnigate_loyalty_*`); `0` turns the sync off.",
    )
    loyalty_sync_batch_size: int = Field(
        100,
        ge=1,
        le=10_000,
        description="Changed accounts that make the property sync send at once, without "
        "waiting for its interval; also the most in one batch.",
    )

    # --- saved segments -------------------------------------------------------------------------
    segment_sweep_seconds: float = Field(
        300.0,
        ge=0,
        description="Seconds between sweeps that re-decide every saved segment's members "
        'against all facts now (who left "within N days" with time alone), announcing '
        "each change on `segmentChanged`; `0` turns the sweeper off.",
    )

    # --- stock ----------------------------------------------------------------------------------
    safety_stock: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description="JSON: units per unified location id kept back from pickup holds "
        '(`{"shopify:123": 2}`); other locations get `safety_stock_default`.',
    )
    safety_stock_default: int = Field(
        0, ge=0, description="Units kept back from pickup holds at a location not listed."
    )
    stock_warmup: bool = Field(
        True, description="Load every stock level from upstream when the app starts."
    )
    stock_reconcile_seconds: float = Field(
        300.0,
        ge=0,
        description="Seconds between stock reconciliations (every level re-read from "
        "upstream, drift repaired and counted in `health`); `0` turns them off (the start-up "
        "warmup is `stock_warmup`).",
    )

    # --- demo ---------------------------------------------------------------------------------
    demo: bool | None = Field(
        None, description="Demo mode (sandboxes, demo tokens); default: on without credentials."
    )
    demo_people: int = Field(200, description="People in the demo dataset.")
    demo_seed: int = Field(7, description="Seed of the demo dataset.")

    # --- connectors: shared HTTP --------------------------------------------------------------
    http_connect_timeout: float = Field(
        2.0,
        description="Seconds to open an upstream socket (not counting the wait for a free "
        "pooled connection).",
    )
    http_total_timeout: float = Field(
        10.0, description="Seconds for one upstream attempt, once it has a connection."
    )
    http_max_retries: int = Field(3, description="Retries of an idempotent upstream call.")
    breaker_failures: int = Field(5, description="Consecutive failures that open a circuit.")
    breaker_reset_seconds: float = Field(30.0, description="How long a circuit stays open.")

    @field_validator("safety_stock", mode="before")
    @classmethod
    def _parse_safety_stock(cls, value: Any) -> Any:
        parsed = json.loads(value) if isinstance(value, str) else value
        if isinstance(parsed, dict) and any(
            not isinstance(v, int) or v < 0 for v in parsed.values()
        ):
            raise ValueError("safety stock must be whole units, 0 or more, per location")
        return parsed

    @field_validator("loyalty_tiers", mode="before")
    @classmethod
    def _parse_tiers(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("loyalty_tiers")
    @classmethod
    def _check_tiers(cls, tiers: list[TierSetting]) -> list[TierSetting]:
        thresholds = [t.threshold for t in tiers]
        if not tiers or thresholds[0] != 0:
            raise ValueError("the first loyalty tier starts at a threshold of 0")
        if thresholds != sorted(set(thresholds)):
            raise ValueError("loyalty tiers are listed by rising threshold, each once")
        return tiers

    @field_validator("tokens", mode="before")
    @classmethod
    def _parse_tokens(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("placeholder_emails", "cors_origins", "trusted_documents_roles", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("identity_limits", mode="before")
    @classmethod
    def _parse_map(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @property
    def demo_mode(self) -> bool:
        """Explicit ``demo``, else on when no vendor credentials are set at all."""
        if self.demo is not None:
            return self.demo
        return not any(v.has_credentials() for v in self._vendors.values())

    # --- each vendor's settings ---------------------------------------------------------------

    @property
    def vendors(self) -> Mapping[str, VendorSettings]:
        """Each registered vendor's settings (when these settings were made), by name."""
        return MappingProxyType(self._vendors)

    def vendor(self, name: str) -> Any:
        """One vendor's settings model (``settings.vendor("square").location_map``)."""
        return self._vendors[name]

    def with_vendors(self, updates: Mapping[str, VendorSettings]) -> Settings:
        """A copy of these settings with some vendors' settings replaced."""
        copy = self.model_copy()
        copy._vendors = {**self._vendors, **updates}
        return copy

    @property
    def sync_interval(self) -> float:
        """Seconds between scheduled incremental syncs; 0 when they are off."""
        if self.sync_interval_seconds is not None:
            return self.sync_interval_seconds
        return 30.0 if self.demo_mode else 300.0

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment != "production"

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return self.environment != "production"

    @property
    def cors_allowed_origins(self) -> list[str]:
        """Explicit ``cors_origins``, else any origin in demo mode (its data is fake and its
        tokens public) and none otherwise."""
        if self.cors_origins is not None:
            return self.cors_origins
        return ["*"] if self.demo_mode else []

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def customer_secret(self) -> str:
        """The configured customer-token secret; outside production, the demo one if unset
        (production refuses to start without its own)."""
        configured = (
            self.customer_token_secret.get_secret_value() if self.customer_token_secret else ""
        )
        if configured.strip():
            return configured
        return "" if self.production else DEMO_CUSTOMER_TOKEN_SECRET

    @property
    def stock_bus_kind(self) -> Literal["local", "mongo"]:
        """The bus ``stock_bus`` resolves to: ``auto`` follows the store."""
        if self.stock_bus == "auto":
            return "mongo" if self.mongodb_uri is not None else "local"
        return self.stock_bus

    def startup_problems(self) -> list[str]:
        """Why these settings must not serve, each naming the setting to change. In
        production: no customer-token secret, the demo secret, one too short for its
        algorithm, demo mode, or a demo token. Anywhere: a router token that is also in
        ``OMNIGATE_TOKENS``, a default hold ttl outside its bounds, a change-stream stock bus
        without MongoDB."""
        problems = []
        if self.stock_bus == "mongo" and self.mongodb_uri is None:
            problems.append(
                "OMNIGATE_STOCK_BUS is `mongo` but MONGODB_URI is not set: the change-stream "
                "bus needs MongoDB (use `auto` or `local` on the in-memory store)."
            )
        router = self.router_token.get_secret_value() if self.router_token else ""
        if router and router in self.tokens:
            problems.append(
                "OMNIGATE_ROUTER_TOKEN is also a token in OMNIGATE_TOKENS: give the router a "
                "token of its own."
            )
        if not self.hold_ttl_min_minutes <= self.hold_ttl_minutes <= self.hold_ttl_max_minutes:
            problems.append(
                "OMNIGATE_HOLD_TTL_MINUTES must lie between OMNIGATE_HOLD_TTL_MIN_MINUTES and "
                "OMNIGATE_HOLD_TTL_MAX_MINUTES: change one of them."
            )
        if not self.production:
            return problems
        secret = (
            self.customer_token_secret.get_secret_value().strip()
            if self.customer_token_secret
            else ""
        )
        minimum = MIN_SECRET_BYTES[self.customer_token_algorithm]
        if not secret:
            problems.append(
                "OMNIGATE_CUSTOMER_TOKEN_SECRET is not set: set it to the secret your "
                f"storefront signs customer tokens with (at least {minimum} random bytes)."
            )
        elif secret == DEMO_CUSTOMER_TOKEN_SECRET:
            problems.append(
                "OMNIGATE_CUSTOMER_TOKEN_SECRET is the demo secret printed in docs/demo.md: "
                f"set a secret of your own (at least {minimum} random bytes)."
            )
        elif len(secret.encode()) < minimum:
            problems.append(
                f"OMNIGATE_CUSTOMER_TOKEN_SECRET is shorter than {minimum} bytes, the least "
                f"{self.customer_token_algorithm} needs: set a longer one."
            )
        if self.demo_mode:
            problems.append(
                "demo mode is on (OMNIGATE_DEMO, or no vendor credentials are set), and it "
                "accepts the demo tokens printed in the docs: set OMNIGATE_DEMO=false and "
                "your vendors' credentials."
            )
        demo_tokens = sorted(set(DEMO_TOKENS) & set(self.tokens))
        if demo_tokens:
            problems.append(
                f"OMNIGATE_TOKENS holds the demo token(s) {', '.join(demo_tokens)}: replace "
                "them with tokens of your own."
            )
        if router in DEMO_TOKENS:
            problems.append(
                "OMNIGATE_ROUTER_TOKEN is a demo token printed in the docs: set one of your own."
            )
        return problems

    def token_grants(self) -> dict[str, TokenGrant]:
        """Configured tokens, plus the demo tokens in demo mode."""
        grants = dict(self.tokens)
        if self.demo_mode:
            for token, grant in DEMO_TOKENS.items():
                grants.setdefault(token, TokenGrant(**grant, name=token))
        return grants


def reference_table() -> str:
    """The README's configuration reference, generated so that it cannot drift: the
    gateway's own settings, then each registered vendor's."""
    rows = ["| Variable | Default | What it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        env = "MONGODB_URI" if name == "mongodb_uri" else f"OMNIGATE_{name.upper()}"
        rows.append(_row(env, field))
    for vendor in registry.vendors():
        for name, field in vendor.settings.model_fields.items():
            rows.append(_row(f"{vendor.env_prefix}{name.upper()}", field))
    return "\n".join(rows)


def _row(env: str, field: FieldInfo) -> str:
    default: Any = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    if isinstance(default, SecretStr):
        shown = "(demo value)"
    elif default is None:
        shown = "unset"
    elif isinstance(default, dict | list):
        plain = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in default]
        shown = f"`{json.dumps(plain if isinstance(default, list) else default)}`"
    else:
        shown = f"`{default}`"
    return f"| `{env}` | {shown} | {field.description} |"
