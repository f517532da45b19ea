"""The catalog map at start-up: built once the store is ready, in the background.

The gateway serves while it runs (``productVariants`` is empty until it finishes, stock and
locations do not need it); ``done`` is set when it has finished, successfully or not, so
tests and the demo can wait for it. A failure is logged: the next scheduled refresh tries
again.
"""

from __future__ import annotations

import asyncio
import logging

from resolvers.context import Services
from resolvers.stock.catalog import refresh_catalog
from resolvers.store import StoreError

log = logging.getLogger("omnigate.catalog")


async def refresh_when_ready(
    services: Services, store_ready: asyncio.Event, done: asyncio.Event
) -> None:
    try:
        if len(services.connectors) == 0:
            return
        await store_ready.wait()
        await refresh_catalog(services)
    except asyncio.CancelledError:
        raise
    except StoreError as exc:
        log.warning("catalog not refreshed at start-up (store): %s", exc)
    except Exception:
        log.exception("catalog not refreshed at start-up; the next refresh tries again")
    finally:
        done.set()
