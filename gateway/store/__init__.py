"""Store implementations behind the ports of :mod:`resolvers.store`: MongoDB in production
(:mod:`gateway.store.mongo`), memory for the embedded demo (:mod:`gateway.store.memory`), one
module per port in each. Which one runs is decided by one setting (``MONGODB_URI``), through
:func:`open_store`, so nothing else in the gateway needs to know."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from gateway.store.memory import MemoryStore
from gateway.store.mongo import MongoStore, MongoTimeouts, ReplicaSetRequired
from gateway.store.retention import (
    DEFAULT_DEAD_LETTER_RETENTION,
    DEFAULT_HOLD_RETENTION,
    DEFAULT_RECEIPT_RETENTION,
)
from resolvers.store import Store, StoreError

__all__ = [
    "DEFAULT_DEAD_LETTER_RETENTION",
    "DEFAULT_HOLD_RETENTION",
    "DEFAULT_RECEIPT_RETENTION",
    "INIT_RETRY_SECONDS",
    "MemoryStore",
    "MongoStore",
    "MongoTimeouts",
    "ReplicaSetRequired",
    "open_store",
    "start_store",
]

log = logging.getLogger("omnigate.store")

#: Pause between attempts to initialise a store that was unreachable at start-up.
INIT_RETRY_SECONDS = 5.0


def open_store(
    uri: str | None,
    database: str,
    *,
    receipt_retention: timedelta = DEFAULT_RECEIPT_RETENTION,
    dead_letter_retention: timedelta = DEFAULT_DEAD_LETTER_RETENTION,
    timeouts: MongoTimeouts | None = None,
) -> Store:
    """``None`` means no database was configured: the demo runs on the memory store.

    The store is returned unconnected; the app calls ``init()`` inside its event loop (the
    async client binds to the loop it first runs in)."""
    if uri is None:
        return MemoryStore(
            receipt_retention=receipt_retention, dead_letter_retention=dead_letter_retention
        )
    return MongoStore(
        uri,
        database,
        receipt_retention=receipt_retention,
        dead_letter_retention=dead_letter_retention,
        timeouts=timeouts,
    )


async def start_store(
    store: Store,
    *,
    retry_every: float = INIT_RETRY_SECONDS,
    ready: asyncio.Event | None = None,
) -> asyncio.Task[None] | None:
    """Initialise ``store``; if it cannot be reached, let the gateway start anyway.

    A gateway that refused to start while the database is down would turn a store outage
    into a crash loop of every replica, and take down what still works without the store
    (``health``, upstream-only fields). So a failed ``init`` is logged, and retried every
    ``retry_every`` seconds by the returned task (the caller cancels it at shutdown) until it
    succeeds. Meanwhile the store's ``ping`` stays false, so ``/readyz`` answers 503 and
    ``health`` says ``reachable: false``, and what needs the store answers
    ``STORE_UNAVAILABLE``. ``ready`` is set once the store is initialised.

    Returns ``None`` when the first ``init`` succeeded.

    A server that answers but is a standalone ``mongod`` is another matter: waiting will not
    make it a replica set, so :class:`ReplicaSetRequired` is logged as critical, the store is
    closed and the error raised: the gateway does not start. (Found by a retry instead, it
    stops the retries and the gateway stays unready.)
    """
    try:
        await store.init()
    except ReplicaSetRequired as exc:
        log.critical("%s", exc, extra={"store": store.kind})
        await store.close()
        raise
    except StoreError as exc:
        log.error(
            "store unreachable at start-up (%s): serving without it; store-backed fields "
            "answer STORE_UNAVAILABLE and /readyz answers 503 until it answers; "
            "retrying every %gs",
            exc,
            retry_every,
            extra={"store": store.kind},
        )
        return asyncio.create_task(_keep_trying(store, retry_every, ready), name="store init")
    log.info("store ready (%s)", store.kind, extra={"store": store.kind})
    if ready is not None:
        ready.set()
    return None


async def _keep_trying(store: Store, retry_every: float, ready: asyncio.Event | None) -> None:
    attempt = 1
    while True:
        await asyncio.sleep(retry_every)
        attempt += 1
        try:
            await store.init()
        except ReplicaSetRequired as exc:
            log.critical(
                "%s; not retrying: the gateway stays unready", exc, extra={"store": store.kind}
            )
            return
        except StoreError as exc:
            log.warning(
                "store still unreachable (%s, attempt %d); retrying in %gs",
                exc,
                attempt,
                retry_every,
                extra={"store": store.kind},
            )
            continue
        log.info(
            "store reachable again: initialised after %d attempts",
            attempt,
            extra={"store": store.kind},
        )
        if ready is not None:
            ready.set()
        return
