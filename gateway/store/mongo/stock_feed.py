"""The stock bus of several replicas: a change stream on the stock journal, relayed onto the
local event bus.

Each replica's stock writes journal a ``StockChange`` (``stock_journal``, ``_id`` the seq, in
the write's transaction; see :mod:`gateway.store.mongo.inventory`). A subscriber connected to
replica B must hear of a hold taken through replica A, so every replica runs one
:class:`StockFeed`: it watches the journal's inserts and delivers each entry to its own
:class:`~resolvers.events.EventBus`, its own writes included. While it runs the stock topic is
*fed* (:meth:`EventBus.feed`): ``announce`` publishing locally too would deliver a change
twice, and out of seq order with the feed's copy of it, so the bus drops local publishes on
that topic and the feed is the one source, in commit order.

It survives errors. PyMongo already resumes a stream once after a transient error; when that
is not enough the feed opens it again after a pause, with the last resume token, and if the
server no longer knows the token (history lost, the oplog rolled over), opens a fresh stream
and first replays the journal after the last seq it delivered, through the inventory port,
so nothing between the two streams is lost. Entries at or below the last delivered seq are
never delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Final

from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from gateway.store.mongo.stock_journal import JOURNAL, change_from
from resolvers.events import EventBus
from resolvers.model import StockChange
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.store import InventoryStore, StoreError
from resolvers.store.errors import CursorExpired

log = logging.getLogger("omnigate.stock.feed")

#: Only new journal entries: the journal is append-only, and TTL deletions are not news.
PIPELINE: Final = [{"$match": {"operationType": "insert"}}]
#: How long the server holds one poll of the stream open on a quiet journal; well under the
#: store's operation timeout (``OMNIGATE_MONGODB_TIMEOUT``, 2 s), which bounds each poll.
AWAIT_MS: Final = 500
#: Journal entries read per catch-up page.
_CATCH_UP_PAGE: Final = 500


class StockFeed:
    """Relays ``stock_journal`` inserts onto ``bus`` (see the module docstring). Start it in
    the app's event loop and stop it at shutdown."""

    def __init__(
        self,
        database: AsyncDatabase[Any],
        bus: EventBus,
        inventory: InventoryStore,
        *,
        retry_seconds: float = 1.0,
        topic: str = STOCK_TOPIC,
    ) -> None:
        self._journal = database[JOURNAL]
        self._bus = bus
        self._inventory = inventory
        self._retry = retry_seconds
        self._topic = topic
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        #: The resume token after the last entry seen.
        self.token: Mapping[str, Any] | None = None
        #: The last seq delivered (``None``: nothing yet).
        self.last_seq: int | None = None
        #: Streams opened so far (the first, and one per recovery).
        self.streams_opened = 0
        #: Set while a stream is open and watching (tests wait on it before writing).
        self.watching = asyncio.Event()
        #: The open change stream, if any (a test closes it to break the feed).
        self.stream: AsyncChangeStream[Any] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._bus.feed(self._topic)
        self._task = asyncio.create_task(self._run(), name="stock-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            # The driver may turn a cancellation inside an operation into an error of its
            # own; the loop sees ``_stopping`` and ends rather than retry.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.watching.clear()
        self._bus.unfeed(self._topic)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._watch()
            except asyncio.CancelledError:
                raise
            except (PyMongoError, StoreError) as exc:
                if self._stopping:
                    return
                log.warning("stock feed: %s; retrying", type(exc).__name__)
            except Exception:
                if self._stopping:
                    return
                log.exception("stock feed: unexpected error; retrying")
            self.stream = None
            self.watching.clear()
            await asyncio.sleep(self._retry)

    async def _open(self) -> AsyncChangeStream[Any]:
        """A stream resumed after the last entry seen, or, when there is no token or the
        server refuses it (history lost, another cluster), a fresh one."""
        if self.token is not None:
            try:
                return await self._journal.watch(
                    PIPELINE, resume_after=self.token, max_await_time_ms=AWAIT_MS
                )
            except OperationFailure as exc:
                log.warning(
                    "stock feed: resume token refused (code %s); catching up from the journal",
                    exc.code,
                )
                self.token = None
        return await self._journal.watch(PIPELINE, max_await_time_ms=AWAIT_MS)

    async def _watch(self) -> None:
        stream = await self._open()
        self.stream = stream
        async with stream:
            self.streams_opened += 1
            if self.token is None and self.last_seq is not None:
                await self._catch_up()
            self.watching.set()
            # One bounded wait per round, not ``async for``: the client's operation timeout
            # (``timeoutMS``) bounds a whole ``next()``, which would fail on a quiet journal.
            while stream.alive and not self._stopping:
                event = await stream.try_next()
                self.token = stream.resume_token or self.token
                document = event.get("fullDocument") if event is not None else None
                if document is not None:
                    self._deliver(change_from(document))
        # A stream that ends (closed under us, or invalidated) is opened again.
        self.token = stream.resume_token or self.token
        self.stream = None
        self.watching.clear()

    async def _catch_up(self) -> None:
        """What the journal holds after the last delivered seq: between a stream whose
        token is lost and the fresh one, entries may have been written."""
        after = self.last_seq or 0
        while True:
            try:
                page = await self._inventory.changes_since(after, limit=_CATCH_UP_PAGE)
            except CursorExpired:
                # Retention dropped entries nobody here has seen: subscribers must re-read.
                log.warning("stock feed: journal after seq %s expired; subscribers resync", after)
                self.last_seq = None
                self._bus.resync(self._topic)
                return
            for change in page:
                self._deliver(change)
            if len(page) < _CATCH_UP_PAGE:
                return
            after = page[-1].seq

    def _deliver(self, change: StockChange) -> None:
        if self.last_seq is not None and change.seq <= self.last_seq:
            return
        self.last_seq = change.seq
        self._bus.deliver(self._topic, change)
