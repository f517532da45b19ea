"""The Klaviyo sandbox on a loopback port, checked against the OpenAPI specs, and connectors
pointed at it.

Every exchange with a sandbox started here goes through :func:`contract_middleware` (when the
specs are present): the request's parameters, headers and body, and the response body, are
validated against the Klaviyo OpenAPI documents, and the test fails at teardown if any did not
conform. That makes every connector test a contract test of both sides.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from connectors.http import HttpConfig
from connectors.klaviyo.connector import KlaviyoConfig, KlaviyoConnector
from connectors.metrics import RequestCounter
from sandboxes.base.faults import FAULTS, MALFORMED_BODY, FaultRegistry
from sandboxes.base.server import run_app
from sandboxes.demo.world import DemoWorld
from sandboxes.klaviyo import SANDBOX, KlaviyoSandbox, create_sandbox
from tests.connectors.klaviyo.contract import Contract, specs_available
from tests.connectors.klaviyo.world import klaviyo_world

API_KEY = "pk_test_klaviyo_key"
#: A test that sends an invalid request on purpose (to see the 400) marks it with this header;
#: the request is then not held to the spec, the response still is.
INVALID_ON_PURPOSE = "X-Test-Invalid-Request"


@dataclass
class ContractLog:
    """What the contract middleware saw: operations validated and problems found."""

    checked: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return "<not JSON>"


def contract_middleware(contract: Contract, log: ContractLog) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        operation = contract.operation(request.method, request.path)
        if operation is None:
            log.problems.append(f"{request.method} {request.path}: not in the Klaviyo spec")
            return await handler(request)
        name = operation.operation_id
        body = _json(await request.read()) if request.body_exists else None
        if INVALID_ON_PURPOSE not in request.headers:
            for problem in contract.check_request(
                operation, query=request.query, headers=request.headers, body=body
            ):
                log.problems.append(f"{name} request: {problem}")
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        raw = response.body if isinstance(response, web.Response) else None
        if raw == MALFORMED_BODY:
            log.checked["injected malformed body"] += 1
            return response  # a fault asked for a broken body: nothing to hold to the spec
        payload = _json(raw if isinstance(raw, bytes) else None)
        for problem in contract.check_response(operation, response.status, payload):
            log.problems.append(f"{name} {response.status}: {problem}")
        log.checked[f"{name} {response.status}"] += 1
        return response

    return check


@pytest.fixture(scope="session")
def contract() -> Contract | None:
    return Contract() if specs_available() else None


@dataclass
class Sandbox:
    url: str
    app: web.Application
    contract: ContractLog | None

    @property
    def state(self) -> KlaviyoSandbox:
        return self.app[SANDBOX]

    @property
    def faults(self) -> FaultRegistry:
        return self.app[FAULTS]

    def filters(self, operation: str) -> list[str]:
        return [text for op, text in self.state.filters if op == operation]


MakeSandbox = Callable[..., Awaitable[Sandbox]]
MakeConnector = Callable[..., Awaitable[KlaviyoConnector]]


@pytest.fixture
def world() -> DemoWorld:
    return klaviyo_world()


@pytest.fixture
async def make_sandbox(world: DemoWorld, contract: Contract | None) -> AsyncIterator[MakeSandbox]:
    """Start sandboxes (``world`` by default); options go to ``create_sandbox``."""
    stack: list[Any] = []
    logs: list[ContractLog] = []

    async def make(sandbox_world: DemoWorld | None = None, **options: Any) -> Sandbox:
        options.setdefault("api_key", API_KEY)
        options.setdefault("job_delay", 0.01)
        app = create_sandbox(sandbox_world or world, **options)
        log: ContractLog | None = None
        if contract is not None:
            log = ContractLog()
            logs.append(log)
            app.middlewares.insert(0, contract_middleware(contract, log))
        runner = run_app(app)
        url = await runner.__aenter__()
        stack.append(runner)
        return Sandbox(url, app, log)

    yield make
    for runner in reversed(stack):
        await runner.__aexit__(None, None, None)
    problems = [p for log in logs for p in log.problems]
    assert not problems, "Klaviyo contract violations:\n" + "\n".join(problems[:20])


@pytest.fixture
async def sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    return await make_sandbox()


@pytest.fixture
async def make_connector(world: DemoWorld) -> AsyncIterator[MakeConnector]:
    """Started connectors against a sandbox; ``counter`` and config fields may be given."""
    connectors: list[KlaviyoConnector] = []

    async def make(
        target: Sandbox,
        *,
        counter: RequestCounter | None = None,
        api_key: str = API_KEY,
        http: dict[str, Any] | None = None,
        **config: Any,
    ) -> KlaviyoConnector:
        http_options = {"max_retries": 3, "backoff_base": 0.05, **(http or {})}
        connector = KlaviyoConnector(
            KlaviyoConfig(
                http=HttpConfig(base_url=target.url, **http_options), api_key=api_key, **config
            ),
            counter=counter or RequestCounter(),
            now=lambda: world.now,
        )
        await connector.start()
        connectors.append(connector)
        return connector

    yield make
    for connector in connectors:
        await connector.close()


@pytest.fixture
async def connector(sandbox: Sandbox, make_connector: MakeConnector) -> KlaviyoConnector:
    return await make_connector(sandbox)
