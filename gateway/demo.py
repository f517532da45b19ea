"""The embedded demo: each registered vendor's sandbox on a loopback port, fed by one
generated dataset, and the gateway pointed at them with demo credentials and demo tokens.

What is vendor-specific (the sandbox's factory, the credentials it accepts, how the vendor's
settings point at it, a store's location ids) is the vendor's own declaration
(:class:`connectors.vendor.DemoSandbox`); this module loops over the registered vendors.

Everything runs in one event loop, so ``omnigate demo`` is one process a newcomer can start
and stop with Ctrl-C. The same function boots the stack for end-to-end tests.

The sandboxes are a distribution of their own (``omnigate-sandboxes``), not part of the
``omnigate`` wheel, so this module imports them only when a demo starts: a production install
without them imports and serves everything else, and ``omnigate demo`` there says what to
install instead of failing with a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors import vendors as registry
from connectors.vendor import SandboxTarget, Vendor, VendorSettings
from gateway.settings import DEMO_TOKENS, Settings, StartupError, TokenGrant

if TYPE_CHECKING:
    from aiohttp import web

    from sandboxes.base.clock import SandboxClock
    from sandboxes.demo import DemoWorld

#: What ``omnigate demo`` says when the sandboxes distribution is not installed.
SANDBOXES_MISSING = (
    "the demo runs against the vendor sandboxes, which are not installed (they are the "
    "separate omnigate-sandboxes distribution, not part of the omnigate wheel): from a "
    "checkout, run `make demo`, or `pip install -e ./sandboxes` into this environment"
)


def require_sandboxes() -> None:
    """Raise :class:`StartupError` naming what to install when ``sandboxes`` is absent (a
    missing dependency *of* the sandboxes still raises as itself)."""
    try:
        import sandboxes  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "sandboxes":
            raise
        raise StartupError([SANDBOXES_MISSING]) from None


@dataclass(slots=True)
class DemoStack:
    world: DemoWorld
    settings: Settings
    sandboxes: dict[str, str] = field(default_factory=dict)
    apps: dict[str, object] = field(default_factory=dict)
    #: The one clock every sandbox stamps its changes with.
    clock: SandboxClock | None = None


def demo_vendors() -> list[Vendor[Any]]:
    """The registered vendors that have a sandbox, in registration order."""
    return [v for v in registry.vendors() if v.sandbox is not None]


def sandbox_apps(
    world: DemoWorld, hooks: str, clock: SandboxClock | None = None
) -> dict[str, web.Application]:
    """Each vendor's sandbox over one world; ``hooks`` is the gateway's ``…/webhooks`` base
    URL, where they deliver signed webhooks (``…/webhooks/<vendor>``). They share ``clock`` (a
    new one by default), so a change made in any of them is stamped on the same time line."""
    require_sandboxes()
    from sandboxes.base.clock import SandboxClock

    clock = clock or SandboxClock(world.now)
    apps: dict[str, web.Application] = {}
    for vendor in demo_vendors():
        assert vendor.sandbox is not None
        factory = _resolve(vendor.sandbox.factory)
        options = vendor.sandbox.options(f"{hooks}/{vendor.name}")
        apps[vendor.name] = factory(world, sandbox_clock=clock, **options)
    return apps


def _resolve(path: str) -> Callable[..., web.Application]:
    """``"module:function"`` imported (a vendor's package only names its sandbox's factory:
    a connector never imports a sandbox)."""
    module, _, name = path.partition(":")
    factory: Callable[..., web.Application] = getattr(importlib.import_module(module), name)
    return factory


#: A staff token bound to one store of the demo world, to try what store-bound staff see.
STORE_STAFF_TOKEN = "demo-staff-store"


def own_locations(vendor: Vendor[Any], world: DemoWorld) -> dict[str, list[str]]:
    """Each store's unified ids in one vendor, before any location map (by store code)."""
    assert vendor.sandbox is not None
    return {
        store.code: list(ids)
        for store in world.locations
        if (ids := vendor.sandbox.store_locations(store))
    }


def home_locations(world: DemoWorld) -> dict[str, str]:
    """The one unified id of each store: its id in the vendor that ranks first for
    locations (Shopify in the built-in demo, where every location exists). The other
    vendors map their copy of the store onto it (see :class:`SandboxTarget`)."""
    precedence = registry.location_precedence()
    homes: dict[str, str] = {}
    for vendor in sorted(demo_vendors(), key=lambda v: precedence.get(v.source, registry.LAST)):
        for code, ids in own_locations(vendor, world).items():
            homes.setdefault(code, ids[0])
    return homes


def store_staff_grant(world: DemoWorld) -> tuple[str, TokenGrant]:
    """The first store known to the most vendors (the first that runs Square too, in the
    built-in demo), under its one unified id, and the grant of a token bound to it."""
    known = [own_locations(vendor, world) for vendor in demo_vendors()]
    homes = home_locations(world)
    store = max(
        (s for s in world.stores if s.code in homes),
        key=lambda s: sum(s.code in ids for ids in known),
    )
    grant = TokenGrant(role="staff", locations=[homes[store.code]], name=STORE_STAFF_TOKEN)
    return store.name, grant


def demo_settings(
    settings: Settings,
    world: DemoWorld,
    urls: dict[str, str],
    hooks: str,
    *,
    today: datetime | None = None,
) -> Settings:
    """``settings`` pointed at sandboxes served at ``urls`` (by vendor name), with their
    credentials."""
    days_since_dataset = max(0, ((today or datetime.now(UTC)) - world.now).days + 1)
    _, store_staff = store_staff_grant(world)
    homes = home_locations(world)
    pointed: dict[str, VendorSettings] = {}
    for vendor in demo_vendors():
        current = settings.vendors.get(vendor.name)
        if vendor.sandbox is None or current is None or vendor.name not in urls:
            continue
        target = SandboxTarget(
            url=urls[vendor.name],
            webhook_url=f"{hooks}/{vendor.name}",
            dataset_age_days=days_since_dataset,
            home_locations=homes,
            own_locations=own_locations(vendor, world),
        )
        pointed[vendor.name] = vendor.sandbox.configure(current, target)
    demo = settings.model_copy(
        update={
            "demo": True,
            "tokens": {STORE_STAFF_TOKEN: store_staff, **settings.tokens},
            # What a retailer would configure: its stores' own contact details.
            "placeholder_emails": [
                *settings.placeholder_emails,
                *(loc.email for loc in world.locations),
                *(loc.phone for loc in world.locations),
            ],
        }
    )
    return demo.with_vendors(pointed)


def webhooks_base(settings: Settings, gateway_url: str | None) -> str:
    return (gateway_url or f"http://{settings.host}:{settings.port}").rstrip("/") + "/webhooks"


@asynccontextmanager
async def sandboxes(
    settings: Settings, *, people: int | None = None, gateway_url: str | None = None
) -> AsyncIterator[DemoStack]:
    """Start the sandboxes and yield settings that point the gateway at them.

    ``gateway_url`` (e.g. ``http://127.0.0.1:8000``) is where sandboxes deliver webhooks.
    Raises :class:`StartupError` when the sandboxes distribution is not installed.
    """
    require_sandboxes()
    from sandboxes.base.clock import SandboxClock
    from sandboxes.base.server import run_app
    from sandboxes.demo import generate

    world = generate(people=people or settings.demo_people, seed=settings.demo_seed)
    hooks = webhooks_base(settings, gateway_url)
    clock = SandboxClock(world.now)
    apps = sandbox_apps(world, hooks, clock)
    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(run_app(app)) for name, app in apps.items()}
        yield DemoStack(
            world=world,
            settings=demo_settings(settings, world, urls, hooks),
            sandboxes=urls,
            apps=dict(apps),
            clock=clock,
        )


def banner(stack: DemoStack, gateway_url: str) -> str:
    world = stack.world
    lines = [
        "",
        "Omnigate demo is running.",
        f"  GraphiQL:  {gateway_url}/graphql",
        f"  Report:    {gateway_url}/report   (analytics of the last 365 days, as HTML)",
        f"  Dataset:   {len(world.people)} people, {len(world.locations)} locations, "
        f"seed {stack.settings.demo_seed}",
        "  Tokens (Authorization: Bearer <token>):",
    ]
    for token, grant in DEMO_TOKENS.items():
        scope = ", every store" if grant.get("locations") == ["*"] else ""
        lines.append(f"    {token:<17} role {grant['role']}{scope}")
    store_name, _ = store_staff_grant(world)
    lines.append(f"    {STORE_STAFF_TOKEN:<17} role staff, only {store_name}")
    lines.append("  Sandboxes (control API under /_sandbox/, see docs/demo.md):")
    for name, url in stack.sandboxes.items():
        lines.append(f"    {name:<8} {url}   control: {url}/_sandbox/")
    lines.append("  Ctrl-C to stop.")
    return "\n".join(lines)
