"""The change-stream relay of the stock journal (gateway.store.mongo.stock_feed), on
SecantusDB (and a real MongoDB with MONGODB_URI): two stores over one database stand for
two replicas; what one writes reaches the other's bus once, in seq order, also across a
broken stream and a resume token the server no longer accepts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from gateway.store import MongoStore
from gateway.store.mongo.stock_feed import StockFeed
from resolvers.events import EventBus, Subscription
from resolvers.model import StockChange, StockLevel
from resolvers.stock.changes import STOCK_TOPIC
from tests.store.backends import fresh_database_name
from tests.store.builders import Doc

pytestmark = pytest.mark.mongo
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
WAIT = 10.0


@pytest.fixture(params=["secantus", "real-mongo"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def replicas(
    mongo_client: AsyncMongoClient[Doc] | None,
) -> AsyncIterator[tuple[MongoStore, MongoStore]]:
    """Two stores over one database, as two gateway replicas have."""
    assert mongo_client is not None
    name = fresh_database_name()
    a, b = MongoStore(mongo_client, name), MongoStore(mongo_client, name)
    await a.init()
    await b.init()
    try:
        yield a, b
    finally:
        await mongo_client.drop_database(name)


class Writes:
    def __init__(self, store: MongoStore) -> None:
        self.store = store
        self.n = 0

    async def __call__(self, sku: str = "A") -> StockChange:
        self.n += 1
        level = StockLevel(sku, "shopify:1", {"available": self.n}, T0 + timedelta(minutes=self.n))
        change = await self.store.inventory.apply_stock_level(level, cause="webhook")
        assert change is not None
        return change


async def received(sub: Subscription, n: int) -> list[StockChange]:
    async with asyncio.timeout(WAIT):
        return [await sub.get() for _ in range(n)]


async def started(feed: StockFeed) -> StockFeed:
    feed.start()
    async with asyncio.timeout(WAIT):
        await feed.watching.wait()
    return feed


async def test_a_change_written_by_one_replica_reaches_the_others_bus(
    replicas: tuple[MongoStore, MongoStore],
) -> None:
    a, b = replicas
    bus = EventBus()
    feed = await started(StockFeed(b.database, bus, b.inventory))
    write = Writes(a)
    try:
        async with bus.subscribe(STOCK_TOPIC) as sub:
            written = [await write("A"), await write("B"), await write("A")]
            # A local announcement on the fed topic is dropped: the feed is the one source.
            assert bus.publish(STOCK_TOPIC, written[0]) == 0
            got = await received(sub, 3)
            assert sub.empty()
    finally:
        await feed.stop()
    assert got == written  # the level as stored, held and version included, in seq order
    assert not bus.is_fed(STOCK_TOPIC)


async def test_a_broken_stream_is_resumed_with_its_token_losing_and_repeating_nothing(
    replicas: tuple[MongoStore, MongoStore],
) -> None:
    a, b = replicas
    bus = EventBus()
    feed = await started(StockFeed(b.database, bus, b.inventory, retry_seconds=0.01))
    write = Writes(a)
    try:
        async with bus.subscribe(STOCK_TOPIC) as sub:
            before = [await write(), await write()]
            assert await received(sub, 2) == before
            assert feed.stream is not None
            await feed.stream.close()  # the stream dies under the feed
            after = [await write(), await write(), await write()]
            assert await received(sub, 3) == after
            assert sub.empty()
            assert feed.streams_opened >= 2
    finally:
        await feed.stop()


async def test_a_refused_resume_token_falls_back_to_the_journal(
    replicas: tuple[MongoStore, MongoStore],
) -> None:
    a, b = replicas
    bus = EventBus()
    write = Writes(a)
    feed = await started(StockFeed(b.database, bus, b.inventory, retry_seconds=0.01))
    async with bus.subscribe(STOCK_TOPIC) as sub:
        first = await write()
        assert await received(sub, 1) == [first]
        await feed.stop()
        # While the feed is down, changes are written, and its token becomes unusable.
        missed = [await write(), await write()]
        feed.token = {"_data": "00"}
        await started(feed)
        later = await write()
        try:
            assert await received(sub, 3) == [*missed, later]
            assert sub.empty()
        finally:
            await feed.stop()
