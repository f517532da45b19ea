"""Square sandboxes over real loopback HTTP, with connectors pointed at them.

``square`` builds (and tears down) a sandbox over a demo world plus a started connector;
every exchange the sandbox sees is recorded (method, path, request JSON, status, response
JSON) so contract tests can hold both directions to the spec and count tests can see what
went over the wire.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from connectors.http import HttpConfig
from connectors.metrics import RequestCounter
from connectors.square import SquareConfig, SquareConnector
from sandboxes.base import run_app
from sandboxes.base.faults import is_control_path
from sandboxes.demo import DemoLocation, DemoWorld, SquareCustomer, SquareOrder, generate
from sandboxes.square import SANDBOX, SquareSandbox, create_sandbox

TOKEN = "EAAAsandbox-test-token"
SIGNATURE_KEY = "square-test-signature-key"


@dataclass(slots=True)
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    request: Any
    status: int
    response: Any


@dataclass(slots=True)
class RecordingSleep:
    """Stands in for ``asyncio.sleep`` in the HTTP client: records backoffs, returns at once."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@dataclass
class SquareEnv:
    url: str
    app: web.Application
    connector: SquareConnector
    counter: RequestCounter
    exchanges: list[Exchange]
    sleep: RecordingSleep

    @property
    def sandbox(self) -> SquareSandbox:
        return self.app[SANDBOX]

    @property
    def world(self) -> DemoWorld:
        return self.sandbox.world

    def api_exchanges(self) -> list[Exchange]:
        return [e for e in self.exchanges if not is_control_path(e.path)]

    def calls(self, operation: str | None = None) -> int:
        return self.counter.count("square", operation)


def recorder(exchanges: list[Exchange]) -> Any:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            sent = json.loads(raw) if raw else None
        except ValueError:
            sent = raw
        response = await handler(request)
        body: Any = None
        if isinstance(response, web.Response) and response.body is not None:
            payload = response.body
            text = payload if isinstance(payload, bytes) else str(payload).encode()
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        exchanges.append(
            Exchange(
                request.method,
                request.path,
                dict(request.headers),
                sent,
                response.status,
                body,
            )
        )
        return response

    return record


@pytest.fixture(scope="session")
def base_world() -> DemoWorld:
    """One generated world per session; sandboxes deep-copy it, tests must not mutate it."""
    return generate(people=200, seed=7)


def unified(loc: DemoLocation) -> str:
    return f"shopify:{loc.shopify_location_id}"


def location_map(world: DemoWorld) -> dict[str, str]:
    """Williamsburg (BKN) is one physical store in Shopify and Square; SoHo stays unmapped."""
    bkn = world.locations_by_code["BKN"]
    assert bkn.square_location_id is not None
    return {bkn.square_location_id: unified(bkn)}


MakeSquare = Callable[..., Awaitable[SquareEnv]]


@pytest.fixture
async def make_square(base_world: DemoWorld) -> AsyncIterator[MakeSquare]:
    """``await make_square(world=None, location_map=None, page_size_cap=None, warm=False,
    **config)``: a sandbox on a loopback port and a started connector for it."""
    async with AsyncExitStack() as stack:

        async def make(
            *,
            world: DemoWorld | None = None,
            mapping: dict[str, str] | None = None,
            page_size_cap: int | None = None,
            warm: bool = False,
            webhook_url: str | None = None,
            notification_url: str | None = None,
            **config: Any,
        ) -> SquareEnv:
            source = world or base_world
            exchanges: list[Exchange] = []
            app = create_sandbox(
                source,
                access_token=TOKEN,
                signature_key=SIGNATURE_KEY,
                webhook_url=webhook_url,
                notification_url=notification_url,
                page_size_cap=page_size_cap,
                middlewares=[recorder(exchanges)],
            )
            url = await stack.enter_async_context(run_app(app))
            counter = RequestCounter()
            sleep = RecordingSleep()
            config.setdefault("warm_catalog_on_start", warm)
            config.setdefault("webhook_signature_key", SIGNATURE_KEY)
            http = config.pop("http", None) or HttpConfig(base_url=url)
            connector = SquareConnector(
                SquareConfig(
                    http=http,
                    access_token=config.pop("access_token", TOKEN),
                    location_map=location_map(source) if mapping is None else mapping,
                    **config,
                ),
                counter=counter,
                sleep=sleep,
            )
            await connector.start()
            stack.push_async_callback(connector.close)
            return SquareEnv(url, app, connector, counter, exchanges, sleep)

        yield make


@pytest.fixture
async def square(make_square: MakeSquare) -> SquareEnv:
    return await make_square()


# --- bigger worlds for the call-count bullets ----------------------------------------------------


def with_customers(world: DemoWorld, count: int) -> tuple[DemoWorld, list[str]]:
    """A copy of ``world`` with ``count`` extra Square customers; returns their ids."""
    bigger = copy.deepcopy(world)
    ids: list[str] = []
    for n in range(count):
        customer_id = bigger.new_square_customer_id()
        at = bigger.now - timedelta(days=n % 300, minutes=n)
        bigger.add_square_customer(
            SquareCustomer(
                id=customer_id,
                person_id=f"T{n:05d}",
                given_name=f"Test{n}",
                family_name="Customer",
                email_address=f"test.customer{n}@example.com",
                phone_number=None,
                address=None,
                creation_source="DIRECTORY",
                created_at=at,
                updated_at=at,
                version=1,
            )
        )
        ids.append(customer_id)
    return bigger, ids


def with_square_stores(world: DemoWorld, total: int) -> DemoWorld:
    """A copy of ``world`` where ``total`` stores run Square (extra ones are clones of SoHo
    with their own Square ids)."""
    bigger = copy.deepcopy(world)
    template = bigger.locations_by_code["SOH"]
    have = len([loc for loc in bigger.locations if loc.square_location_id])
    for n in range(total - have):
        clone = copy.deepcopy(template)
        clone.code = f"SQ{n:02d}"
        clone.name = f"Fernhill Pop-up {n}"
        clone.square_location_id = bigger.ids.square_location()
        clone.shopify_location_id = template.shopify_location_id + 1000 + n
        bigger.locations.append(clone)
    bigger.reindex()
    return bigger


def spread_orders(world: DemoWorld, customer_ids: list[str]) -> list[str]:
    """Give each customer one order at each of several Square stores (round robin over all
    of them), cloned from an existing order; returns the new order ids."""
    stores = [loc for loc in world.locations if loc.square_location_id]
    template = world.square_orders[0]
    created: list[str] = []
    for n, customer_id in enumerate(customer_ids):
        for k in range(3):
            store = stores[(n + k * 5) % len(stores)]
            assert store.square_location_id is not None
            order: SquareOrder = copy.deepcopy(template)
            order.id = world.new_square_order_id()
            order.customer_id = customer_id
            order.person_id = None
            order.location_code = store.code
            order.location_id = store.square_location_id
            order.refunds = []
            world.add_square_order(order)
            created.append(order.id)
    return created
