"""Every GraphQL operation runs under its deadline: queries and mutations each get their own
length, subscriptions none; and the app wires the settings into the schema."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import aiohttp
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from connectors import deadline
from gateway.app import create_app
from schema.deadline import OperationDeadline
from tests.gateway.test_graphql_ws import ws_query
from tests.support import make_settings, serve


def _left() -> float | None:
    """Seconds the resolver's deadline allows, rounded so comparisons do not race the clock."""
    found = deadline.current()
    return None if found is None else round(found.at - time.monotonic())


@strawberry.type
class Query:
    @strawberry.field
    async def left(self) -> float | None:
        return _left()


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def left(self) -> float | None:
        return _left()


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def left(self) -> AsyncGenerator[float | None, None]:
        yield _left()


SCHEMA = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[lambda: OperationDeadline(query=5.0, mutation=15.0)],
)


async def test_queries_and_mutations_get_their_own_deadlines() -> None:
    query = await SCHEMA.execute("{ left }")
    mutation = await SCHEMA.execute("mutation { left }")
    assert query.errors is None
    assert mutation.errors is None
    assert query.data == {"left": 5.0}
    assert mutation.data == {"left": 15.0}
    assert deadline.current() is None  # nothing leaks out of the operation


async def test_a_subscription_has_no_overall_deadline() -> None:
    stream = await SCHEMA.subscribe("subscription { left }")
    assert not hasattr(stream, "errors")
    events = [event async for event in stream]  # type: ignore[union-attr]
    assert [event.data for event in events] == [{"left": None}]


async def test_an_operation_over_the_websocket_gets_the_same_deadline() -> None:
    view = GraphQL(SCHEMA)
    app = Starlette(routes=[Route("/graphql", view), WebSocketRoute("/graphql", view)])
    async with serve(app) as url, aiohttp.ClientSession() as http:
        query = await ws_query(http, url, "{ left }")
        mutation = await ws_query(http, url, "mutation { left }")
    assert query["payload"]["data"] == {"left": 5.0}
    assert mutation["payload"]["data"] == {"left": 15.0}


def test_the_app_builds_its_schema_with_the_deadline_settings() -> None:
    app = create_app(make_settings(query_deadline_seconds=2.5, mutation_deadline_seconds=7.0))
    [extension] = [
        factory()
        for factory in app.state.schema.extensions
        if isinstance(factory(), OperationDeadline)
    ]
    assert set(extension.seconds.values()) == {2.5, 7.0}
