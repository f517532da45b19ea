"""The composition root: every long-lived object is built here, from settings.

The store, each registered vendor's connector, the event bus, the services over them
(customer service, linker, admin, location directory), the schema, the authenticator, the
GraphQL view, the webhook dispatcher and route, and the sync scheduler. Nothing else constructs
them (tests build the parts they fake and hand them to :func:`compose_services`), so how they
fit together is read in one module.

Only construction happens here; connecting is the app lifespan's job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from opentelemetry.trace import Tracer, TracerProvider

from connectors import vendors as registry
from connectors.capabilities import Connector
from connectors.metrics import RequestCounter
from connectors.records import OrderRecord, Source
from connectors.registry import ConnectorSet
from connectors.vendor import SharedConfig
from connectors.webhooks import WebhookEndpoint
from gateway.auth import Authenticator
from gateway.examples import load_examples
from gateway.graphiql import GraphiQLAssets, GraphiQLPage
from gateway.graphql_view import GraphQLView
from gateway.hold_sweeper import HoldSweeper
from gateway.loyalty_expiry import ExpirySweeper
from gateway.loyalty_sync import LoyaltySync
from gateway.metrics import GatewayMetrics
from gateway.scheduler import SyncScheduler
from gateway.segment_sweeper import SegmentSweeper
from gateway.settings import Settings
from gateway.stock_scheduler import StockScheduler
from gateway.store import MongoStore, MongoTimeouts, open_store
from gateway.store.mongo.stock_feed import StockFeed
from gateway.store.observed import ObservedStore, unwrapped
from gateway.tracing import Tracing, start_tracing
from gateway.trusted_documents import trusted_documents
from gateway.webhooks import WebhookRoute
from resolvers.context import ResolverConfig, Services
from resolvers.customers.admin import ProfileAdmin
from resolvers.customers.linking import Linker
from resolvers.customers.service import CustomerService, utcnow
from resolvers.events import EventBus
from resolvers.identity.normalize import normalize_email, normalize_phone
from resolvers.identity.placeholders import Placeholders
from resolvers.locations import LocationDirectory
from resolvers.loyalty import earning, notify, referrals
from resolvers.loyalty.program import LoyaltyProgram, Tier
from resolvers.segments import facts as segment_facts
from resolvers.segments import saved as saved_segments
from resolvers.store import Store
from resolvers.webhook_events import WebhookDispatcher
from schema.build import Limits, OmnigateSchema, build_schema
from schema.cache_control import CacheAges

# --- connectors ---------------------------------------------------------------------------------


def shared_config(settings: Settings, tracer: Tracer | None = None) -> SharedConfig:
    """What every connector takes from the gateway's own settings (and its tracer)."""
    return SharedConfig(
        connect_timeout=settings.http_connect_timeout,
        total_timeout=settings.http_total_timeout,
        max_retries=settings.http_max_retries,
        breaker_failures=settings.breaker_failures,
        breaker_reset=settings.breaker_reset_seconds,
        default_phone_region=settings.default_phone_region,
        tracer=tracer,
    )


def build_connectors(
    settings: Settings, counter: RequestCounter, tracer: Tracer | None = None
) -> ConnectorSet:
    """Every registered vendor whose credentials are set, in registration order. The demo
    sets sandbox credentials."""
    shared = shared_config(settings, tracer)
    connectors: list[Connector] = []
    for vendor in registry.vendors():
        vendor_settings = settings.vendors.get(vendor.name)
        if vendor_settings is None:  # registered after these settings were made
            continue
        connector = vendor.build(vendor_settings, shared, counter)
        if connector is not None:
            connectors.append(connector)
    return ConnectorSet(connectors)


def webhook_endpoints(connectors: ConnectorSet) -> dict[str, WebhookEndpoint]:
    """The webhook endpoint of each connector that has a signing secret configured (its
    ``webhooks`` attribute), by vendor name: served at ``/webhooks/<vendor>``."""
    endpoints: dict[str, WebhookEndpoint] = {}
    for connector in connectors:
        endpoint = getattr(connector, "webhooks", None)
        if endpoint is not None:
            endpoints[str(connector.source)] = endpoint
    return endpoints


# --- services -----------------------------------------------------------------------------------


def resolver_config(settings: Settings) -> ResolverConfig:
    return ResolverConfig(
        max_page_size=settings.max_page_size,
        default_phone_region=settings.default_phone_region,
        profile_ttl_seconds=settings.profile_ttl_seconds,
        refresh_deadline_seconds=settings.refresh_deadline_seconds,
        placeholder_emails=tuple(v for v in settings.placeholder_emails if "@" in v),
        placeholder_phones=tuple(v for v in settings.placeholder_emails if "@" not in v),
        placeholder_threshold=settings.placeholder_threshold,
        identity_limits=tuple(sorted(settings.identity_limits.items())),
        hold_max_quantity=settings.hold_max_quantity,
        hold_ttl_minutes=settings.hold_ttl_minutes,
        hold_ttl_min_minutes=settings.hold_ttl_min_minutes,
        hold_ttl_max_minutes=settings.hold_ttl_max_minutes,
        hold_settle_timeout_minutes=settings.hold_settle_timeout_minutes,
        safety_stock=tuple(sorted(settings.safety_stock.items())),
        safety_stock_default=settings.safety_stock_default,
        loyalty=LoyaltyProgram(
            earn_rate=settings.loyalty_earn_rate,
            tiers=tuple(Tier(t.name, t.threshold, t.multiplier) for t in settings.loyalty_tiers),
            return_window_days=settings.loyalty_return_window_days,
            allow_negative=settings.loyalty_allow_negative,
            expiry_days=settings.loyalty_expiry_days,
            referral_bonus=settings.loyalty_referral_bonus,
        ),
    )


def compose_services(
    store: Store,
    connectors: ConnectorSet,
    events: EventBus | None = None,
    config: ResolverConfig | None = None,
    *,
    version: str = "0.0.0",
    demo_mode: bool = False,
    clock: Callable[[], datetime] = utcnow,
    tracer: Tracer | None = None,
) -> Services:
    """The services over a store and connectors: the customer service, the linker, the
    admin and the location directory, sharing one set of placeholders. ``tracer`` is for
    the spans of the DataLoaders the customer service makes."""
    config = config or ResolverConfig()
    region = config.default_phone_region
    placeholders = Placeholders()
    placeholders.add(
        v
        for v in (
            *(normalize_email(e) for e in config.placeholder_emails),
            *(normalize_phone(p, region) for p in config.placeholder_phones),
        )
        if v
    )
    services = Services(
        store=store,
        connectors=connectors,
        events=events or EventBus(),
        config=config,
        customers=CustomerService(
            store,
            connectors,
            ttl=timedelta(seconds=config.profile_ttl_seconds),
            region=region,
            placeholders=placeholders,
            refresh_deadline=config.refresh_deadline_seconds,
            tracer=tracer,
        ),
        linker=Linker(
            store,
            region=region,
            limits={Source(s): n for s, n in config.identity_limits} or None,
            placeholders=placeholders,
            placeholder_threshold=config.placeholder_threshold,
            clock=clock,
        ),
        admin=ProfileAdmin(store, connectors, clock=clock, placeholders=placeholders),
        locations=LocationDirectory(connectors),
        version=version,
        demo_mode=demo_mode,
    )
    services.customers.after_build = partial(_loyalty_after_build, services)
    # Then (loyalty first: the facts carry the points it leaves) the segment facts.
    services.customers.on_built = partial(segment_facts.record, services)
    # A retired profile leaves its saved segments at once (LEFT announced), not at a sweep.
    services.admin.on_retired = services.linker.on_retired = partial(
        saved_segments.reevaluate, services
    )

    def accounts_moved(account_ids: Sequence[str]) -> None:
        for account_id in account_ids:
            notify.account_changed(services, account_id)

    services.admin.accounts_moved = services.linker.accounts_moved = accounts_moved
    return services


async def _loyalty_after_build(
    services: Services, profile_id: str, orders: Sequence[OrderRecord]
) -> None:
    """After every profile build: earn from the person's orders, then pay the referral their
    first paid order carried (both idempotent, so every path and replay may run them)."""
    await earning.accrue(services, profile_id, orders)
    await referrals.reward_referral(services, profile_id, orders)


def open_settings_store(settings: Settings) -> Store:
    """The store the settings name (MongoDB, or in memory without ``MONGODB_URI``)."""
    uri = settings.mongodb_uri.get_secret_value() if settings.mongodb_uri else None
    return open_store(
        uri,
        settings.mongodb_database,
        receipt_retention=timedelta(days=settings.webhook_receipt_ttl_days),
        dead_letter_retention=timedelta(days=settings.webhook_dead_letter_ttl_days),
        timeouts=MongoTimeouts(
            server_selection=settings.mongodb_server_selection_timeout,
            connect=settings.mongodb_connect_timeout,
            operation=settings.mongodb_timeout,
        ),
    )


def build_services(
    settings: Settings,
    *,
    version: str,
    counter: RequestCounter | None = None,
    store: Store | None = None,
    tracing: Tracing | None = None,
) -> Services:
    """The services the settings describe; ``store`` replaces the one they name (the app
    hands in that one, wrapped: :mod:`gateway.store.observed`)."""
    return compose_services(
        store or open_settings_store(settings),
        build_connectors(
            settings,
            counter or RequestCounter(),
            tracing.tracer("omnigate.connectors") if tracing else None,
        ),
        EventBus(queue_size=settings.stock_subscriber_queue),
        resolver_config(settings),
        version=version,
        demo_mode=settings.demo_mode,
        tracer=tracing.tracer("omnigate.loaders") if tracing else None,
    )


# --- serving ------------------------------------------------------------------------------------


def build_webhook_route(
    settings: Settings, services: Services, dispatcher: WebhookDispatcher | None = None
) -> WebhookRoute:
    """``/webhooks/<vendor>``: each connector's endpoint, applying events through the
    dispatcher (a new one by default)."""
    return WebhookRoute(
        services,
        webhook_endpoints(services.connectors),
        dispatcher or WebhookDispatcher(services),
        deadline_seconds=settings.webhook_deadline_seconds,
    )


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything the app serves with, built from one settings object."""

    settings: Settings
    #: Upstream calls by connector and operation (tests and benchmarks read it).
    counter: RequestCounter
    #: What ``/metrics`` serves.
    metrics: GatewayMetrics
    services: Services
    schema: OmnigateSchema
    authenticator: Authenticator
    graphql: GraphQLView
    #: GraphiQL's page and files; ``None`` when it is off.
    graphiql: GraphiQLPage | None
    dispatcher: WebhookDispatcher
    webhooks: WebhookRoute
    #: Runs the start-up backfill and the scheduled incremental syncs.
    scheduler: SyncScheduler
    #: Runs the start-up stock warmup and the scheduled reconciliations.
    stock_scheduler: StockScheduler
    #: Expires due pickup holds and settles timed-out completed ones.
    sweeper: HoldSweeper
    #: Sends changed loyalty accounts' figures to the email tool's profiles.
    loyalty_sync: LoyaltySync
    #: Lets points lapse after the programme's inactivity period.
    expiry: ExpirySweeper
    #: Re-decides saved segments' members with the clock (``OMNIGATE_SEGMENT_SWEEP_SECONDS``).
    segment_sweeper: SegmentSweeper
    #: Where the spans go (flushed when the app stops, if the gateway made the provider).
    tracing: Tracing
    #: Relays every replica's stock changes onto this one's bus (``OMNIGATE_STOCK_BUS``
    #: resolving to ``mongo``); ``None`` on the in-process bus.
    stock_feed: StockFeed | None = None


def build_runtime(
    settings: Settings,
    *,
    version: str,
    services: Services | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Runtime:
    """The app's long-lived objects. ``services`` replaces those the settings would build
    (tests hand in a store or connectors of their own; that store is used as it is, without
    the spans and hold and ledger outcomes of :mod:`gateway.store.observed`).
    ``tracer_provider`` replaces the one the settings describe (:mod:`gateway.tracing`)."""
    counter = RequestCounter()
    tracing = start_tracing(settings, tracer_provider)
    metrics = GatewayMetrics(counter)
    if services is None:
        store = ObservedStore(
            open_settings_store(settings), tracer=tracing.tracer("omnigate.store"), observer=metrics
        )
        services = build_services(
            settings, version=version, counter=counter, store=store, tracing=tracing
        )
    services.hold_refused = metrics.hold_refused
    metrics.watch(services.connectors, services.events, services.customers.served)
    trusted = trusted_documents(settings)
    schema = build_schema(
        Limits(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            introspection=settings.introspection_enabled,
            sdl_needs_token=settings.production,
            query_deadline=settings.query_deadline_seconds,
            mutation_deadline=settings.mutation_deadline_seconds,
            cache=CacheAges(
                stock=settings.cache_max_age_stock_seconds,
                catalog=settings.cache_max_age_catalog_seconds,
                locations=settings.cache_max_age_locations_seconds,
                program=settings.cache_max_age_program_seconds,
            ),
        ),
        observe=metrics.operation,
        trust=trusted.refusal if trusted is not None else None,
        tracer=tracing.tracer("omnigate.graphql"),
    )
    authenticator = Authenticator(
        settings.token_grants(),
        settings.customer_secret(),
        algorithm=settings.customer_token_algorithm,
        max_lifetime_seconds=settings.customer_token_max_lifetime_seconds,
        router_token=settings.router_token.get_secret_value() if settings.router_token else None,
    )
    dispatcher = WebhookDispatcher(services)
    webhooks = build_webhook_route(settings, services, dispatcher)
    webhooks.observe = metrics.webhook
    graphiql = (
        GraphiQLPage(GraphiQLAssets(settings.graphiql_assets), load_examples())
        if settings.graphiql_enabled
        else None
    )
    return Runtime(
        settings=settings,
        counter=counter,
        metrics=metrics,
        services=services,
        schema=schema,
        authenticator=authenticator,
        graphql=GraphQLView(
            schema=schema,
            services=services,
            authenticator=authenticator,
            graphiql=graphiql,
            allowed_origins=settings.cors_allowed_origins,
            trusted=trusted,
        ),
        graphiql=graphiql,
        dispatcher=dispatcher,
        webhooks=webhooks,
        scheduler=SyncScheduler(
            services,
            interval=settings.sync_interval if len(services.connectors) > 0 else 0,
            overlap=timedelta(seconds=settings.sync_overlap_seconds),
        ),
        stock_scheduler=StockScheduler(
            services,
            interval=settings.stock_reconcile_seconds if len(services.connectors) > 0 else 0,
            warmup=settings.stock_warmup and len(services.connectors) > 0,
        ),
        sweeper=HoldSweeper(
            services,
            interval=settings.hold_sweep_interval_seconds,
            settle_timeout=timedelta(minutes=settings.hold_settle_timeout_minutes),
        ),
        loyalty_sync=LoyaltySync(
            services,
            interval=settings.loyalty_sync_interval_seconds,
            batch_size=settings.loyalty_sync_batch_size,
        ),
        expiry=ExpirySweeper(services, interval=settings.loyalty_expiry_sweep_seconds),
        segment_sweeper=SegmentSweeper(services, interval=settings.segment_sweep_seconds),
        tracing=tracing,
        stock_feed=build_stock_feed(settings, services),
    )


def build_stock_feed(settings: Settings, services: Services) -> StockFeed | None:
    """The change-stream relay, when the stock bus is MongoDB's (see docs/subscriptions.md).
    A store handed in by a test that is not MongoDB keeps the in-process bus."""
    store = unwrapped(services.store)
    if settings.stock_bus_kind != "mongo" or not isinstance(store, MongoStore):
        return None
    return StockFeed(store.database, services.events, store.inventory)
