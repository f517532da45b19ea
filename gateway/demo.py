"""The embedded demo: the three vendor sandboxes on loopback ports, fed by one generated
dataset, and the gateway pointed at them with demo credentials and demo tokens.

Everything runs in one event loop, so ``omnigate demo`` is one process a newcomer can start
and stop with Ctrl-C. The same function boots the stack for end-to-end tests.

The sandboxes are a distribution of their own (``omnigate-sandboxes``), not part of the
``omnigate`` wheel, so this module imports them only when a demo starts: a production install
without them imports and serves everything else, and ``omnigate demo`` there says what to
install instead of failing with a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import SecretStr

from connectors.shopify.ids import location_id
from connectors.square.locations import PREFIX as SQUARE_LOCATION
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


#: Credentials the sandboxes accept. They only ever guard loopback fakes.
SHOPIFY_TOKEN = "shpat_demo_token"
SHOPIFY_SECRET = "demo-shopify-webhook-secret"
SQUARE_TOKEN = "EAAAdemo_square_token"
SQUARE_SIGNATURE_KEY = "demo-square-signature-key"
KLAVIYO_KEY = "pk_demo_klaviyo_key"


@dataclass(slots=True)
class DemoStack:
    world: DemoWorld
    settings: Settings
    sandboxes: dict[str, str] = field(default_factory=dict)
    apps: dict[str, object] = field(default_factory=dict)
    #: The one clock every sandbox stamps its changes with.
    clock: SandboxClock | None = None


def sandbox_apps(
    world: DemoWorld, hooks: str, clock: SandboxClock | None = None
) -> dict[str, web.Application]:
    """The three vendor sandboxes over one world; ``hooks`` is the gateway's
    ``…/webhooks`` base URL, where they deliver signed webhooks. They share ``clock`` (a new
    one by default), so a change made in any of them is stamped on the same time line."""
    require_sandboxes()
    from sandboxes.base.clock import SandboxClock
    from sandboxes.klaviyo import create_sandbox as klaviyo_sandbox
    from sandboxes.shopify import create_sandbox as shopify_sandbox
    from sandboxes.square import create_sandbox as square_sandbox

    clock = clock or SandboxClock(world.now)
    return {
        "shopify": shopify_sandbox(
            world,
            access_token=SHOPIFY_TOKEN,
            webhook_secret=SHOPIFY_SECRET,
            webhook_url=f"{hooks}/shopify",
            # Shopify Plus's bucket (1,000 points/s): the demo's start-up backfill of every
            # customer's orders then takes seconds, not the minute a Standard shop needs.
            restore_rate=1000.0,
            sandbox_clock=clock,
        ),
        "square": square_sandbox(
            world,
            access_token=SQUARE_TOKEN,
            signature_key=SQUARE_SIGNATURE_KEY,
            webhook_url=f"{hooks}/square",
            sandbox_clock=clock,
        ),
        "klaviyo": klaviyo_sandbox(world, api_key=KLAVIYO_KEY, sandbox_clock=clock),
    }


#: A staff token bound to one store of the demo world, to try what store-bound staff see.
STORE_STAFF_TOKEN = "demo-staff-store"


def store_staff_grant(world: DemoWorld) -> tuple[str, TokenGrant]:
    """The first store that runs Square, under both its unified ids (the demo maps no
    Square location onto its Shopify twin), and the grant of a token bound to it."""
    store = next((s for s in world.stores if s.square_location_id), world.stores[0])
    bound = [location_id(store.shopify_location_id)]
    if store.square_location_id:
        bound.append(SQUARE_LOCATION + store.square_location_id)
    return store.name, TokenGrant(role="staff", locations=bound, name=STORE_STAFF_TOKEN)


def demo_settings(
    settings: Settings,
    world: DemoWorld,
    urls: dict[str, str],
    hooks: str,
    *,
    today: datetime | None = None,
) -> Settings:
    """``settings`` pointed at sandboxes served at ``urls``, with their credentials."""
    days_since_dataset = max(0, ((today or datetime.now(UTC)) - world.now).days + 1)
    _, store_staff = store_staff_grant(world)
    return settings.model_copy(
        update={
            "demo": True,
            "tokens": {STORE_STAFF_TOKEN: store_staff, **settings.tokens},
            "shopify_shop": "omnigate-demo.myshopify.com",
            "shopify_base_url": urls["shopify"],
            "shopify_access_token": SecretStr(SHOPIFY_TOKEN),
            "shopify_webhook_secret": SecretStr(SHOPIFY_SECRET),
            "square_base_url": urls["square"],
            "square_access_token": SecretStr(SQUARE_TOKEN),
            "square_webhook_signature_key": SecretStr(SQUARE_SIGNATURE_KEY),
            "square_webhook_url": f"{hooks}/square",
            "klaviyo_base_url": urls["klaviyo"],
            "klaviyo_api_key": SecretStr(KLAVIYO_KEY),
            # The demo's events end at the dataset's fixed "now": keep reading its last
            # 90 days however long after that date the demo runs.
            "klaviyo_engagement_days": settings.klaviyo_engagement_days + days_since_dataset,
            # What a retailer would configure: its stores' own contact details.
            "placeholder_emails": [
                *settings.placeholder_emails,
                *(loc.email for loc in world.locations),
                *(loc.phone for loc in world.locations),
            ],
        }
    )


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
