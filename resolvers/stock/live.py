"""Live stock: the stream behind the ``stockChanged`` subscription.

Every stock write is journalled by the store with a store-wide ``seq`` in commit order
(:class:`~resolvers.model.StockChange`) and announced on the event bus. A subscriber reads
the bus, and the journal where the bus cannot be trusted to have everything:

1. It subscribes to the bus *first*, so nothing committed from then on can slip past it.
2. With ``since`` (a cursor it was given before), it replays the journal after that seq, page
   by page, until a page comes back short. Everything committed before that last read has
   then been delivered.
3. It goes live, dropping every bus event at or below the seq it has covered: what the replay
   already delivered is never delivered twice, and order stays seq order.

While live, every stock change of the whole store passes the bus, so consecutive seqs are
expected; a jump means an announcement is late or was never made (two writers announcing
in the other order), and the journal fills the gap before the later event is delivered.

A subscriber too slow for the bus (its queue overflowed) reads a resync marker instead of a
silent gap: its cursor is the last seq the subscriber had covered, so the client may either
re-read the stock it shows, or resubscribe with ``since`` that cursor to replay what it
missed. The marker is also what a journal that cannot be read while live (a store outage)
produces, rather than ending the stream.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from resolvers.errors import BadUserInput, OmnigateError
from resolvers.events import RESYNC, EventBus
from resolvers.model import StockChange
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.store import Store, StoreError
from resolvers.store.errors import CursorExpired

log = logging.getLogger("omnigate.stock.live")

#: Most SKUs (and location ids) one subscription may name.
MAX_SKUS: Final = 100
#: Journal entries read per replay page.
REPLAY_PAGE: Final = 500
#: What every cursor starts with once decoded: a cursor of some other kind is refused.
_CURSOR_PREFIX: Final = "stock:"


class CursorExpiredError(OmnigateError):
    code = "CURSOR_EXPIRED"


def encode_cursor(seq: int) -> str:
    """The opaque cursor of journal position ``seq``."""
    raw = f"{_CURSOR_PREFIX}{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The seq a cursor stands for; anything we did not make is ``BAD_USER_INPUT``."""
    bad = BadUserInput(
        "`since` is not a cursor this API gave out", extensions={"argument": "since"}
    )
    if not cursor or len(cursor) > 64:
        raise bad
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad from None
    digits = text.removeprefix(_CURSOR_PREFIX)
    if digits == text or not digits.isdigit() or not digits.isascii():
        raise bad
    return int(digits)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One item of the stream: a change, or (``change is None``) a resync marker."""

    seq: int
    change: StockChange | None

    @property
    def cursor(self) -> str:
        return encode_cursor(self.seq)

    @property
    def resync(self) -> bool:
        return self.change is None


class LiveServices(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventBus: ...


@dataclass(frozen=True, slots=True)
class StockFilter:
    skus: frozenset[str]
    location_ids: frozenset[str] | None

    @classmethod
    def of(cls, skus: Sequence[str], location_ids: Sequence[str] | None) -> StockFilter:
        if not 1 <= len(skus) <= MAX_SKUS:
            raise BadUserInput(
                f"name between 1 and {MAX_SKUS} SKUs", extensions={"argument": "skus"}
            )
        if any(not sku.strip() for sku in skus):
            raise BadUserInput("a SKU may not be empty", extensions={"argument": "skus"})
        if location_ids is not None and not 1 <= len(location_ids) <= MAX_SKUS:
            raise BadUserInput(
                f"name between 1 and {MAX_SKUS} location ids, or none for all",
                extensions={"argument": "locationIds"},
            )
        return cls(frozenset(skus), frozenset(location_ids) if location_ids is not None else None)

    def matches(self, change: StockChange) -> bool:
        level = change.level
        return level.sku in self.skus and (
            self.location_ids is None or level.location_id in self.location_ids
        )

    @property
    def sku_list(self) -> list[str]:
        return sorted(self.skus)

    @property
    def location_list(self) -> list[str] | None:
        return sorted(self.location_ids) if self.location_ids is not None else None


async def stock_changes(
    services: LiveServices,
    skus: Sequence[str],
    location_ids: Sequence[str] | None = None,
    since: str | None = None,
    *,
    queue_size: int | None = None,
    live: asyncio.Event | None = None,
) -> AsyncIterator[LiveEvent]:
    """The changes of ``skus`` (at ``location_ids``, or anywhere), after ``since`` when given,
    then live, in seq order, each once. Arguments are checked before anything is read.
    ``live`` is set once the replay is over and the stream waits on the bus (tests)."""
    wanted = StockFilter.of(skus, location_ids)
    since_seq = decode_cursor(since) if since is not None else None
    stream = _Stream(services.store, wanted)
    async with services.events.subscribe(
        STOCK_TOPIC,
        queue_size=queue_size,
        # Only this subscriber's SKUs take room in its queue; the others' seqs are still
        # noted, so a gap in what it was offered is told apart from changes it filtered out.
        accepts=lambda item: not isinstance(item, StockChange) or wanted.matches(item),
        position=lambda item: item.seq if isinstance(item, StockChange) else None,
    ) as queue:
        if since_seq is None:
            stream.covered = await services.store.inventory.last_seq()
            queue.watch_from(stream.covered)
        else:
            stream.covered = since_seq
            queue.watch_from(since_seq)
            async for change in stream.replay():
                yield LiveEvent(change.seq, change)
            queue.watch_from(stream.covered)
        resynced = False
        if live is not None:
            live.set()
        while True:
            item = await queue.get()
            if item is RESYNC:
                resynced = True
                yield LiveEvent(stream.covered, None)
                continue
            if not isinstance(item, StockChange) or item.seq <= stream.covered:
                continue
            if not resynced and not queue.seen_all_between(stream.covered, item.seq):
                try:
                    missed = await stream.fill(item.seq)
                except StoreError as exc:
                    log.warning("stock journal unreadable while live (%s): resync", exc)
                    resynced = True
                    yield LiveEvent(stream.covered, None)
                    missed = []
                for change in missed:
                    yield LiveEvent(change.seq, change)
            resynced = False
            stream.covered = item.seq
            queue.watch_from(item.seq)
            if wanted.matches(item):
                yield LiveEvent(item.seq, item)


class _Stream:
    """What one subscriber has covered, and its reads of the journal."""

    def __init__(self, store: Store, wanted: StockFilter) -> None:
        self.store = store
        self.wanted = wanted
        #: Every matching change up to this seq has been delivered.
        self.covered = 0

    async def _page(self, after: int) -> list[StockChange]:
        try:
            return await self.store.inventory.changes_since(
                after,
                skus=self.wanted.sku_list,
                location_ids=self.wanted.location_list,
                limit=REPLAY_PAGE,
            )
        except CursorExpired:
            raise CursorExpiredError(
                "`since` is older than the stock journal keeps; read the stock again and "
                "subscribe without `since`",
                extensions={"argument": "since"},
            ) from None

    async def replay(self) -> AsyncIterator[StockChange]:
        """The journal after :attr:`covered`, to its end as of the last read."""
        while True:
            mark = await self.store.inventory.last_seq()
            page = await self._page(self.covered)
            for change in page:
                self.covered = change.seq
                yield change
            if len(page) < REPLAY_PAGE:
                # Everything committed by ``mark`` was visible to that read.
                self.covered = max(self.covered, mark)
                return

    async def fill(self, before: int) -> list[StockChange]:
        """Matching journal entries after :attr:`covered` and before seq ``before`` (which
        is committed, so everything before it is too)."""
        found: list[StockChange] = []
        after = self.covered
        while True:
            page = await self._page(after)
            found.extend(c for c in page if c.seq < before)
            if len(page) < REPLAY_PAGE or page[-1].seq >= before:
                return found
            after = page[-1].seq
