"""One OS process of the two-process oversell test: ``python -m tests.resolvers.hold_worker
URI DATABASE NAME ATTEMPTS``. It connects its own store to the shared server, prints
``ready``, waits for ``go`` on stdin (so both processes race at once, with no sleep), makes
its attempts concurrently and prints how many it won."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

from gateway.store import MongoStore, MongoTimeouts
from resolvers.errors import OmnigateError
from resolvers.stock import holds
from tests.resolvers.holds_world import INTERNAL, SHOPIFY_STORE, SKU, T0, hold_services


async def main(uri: str, database: str, name: str, attempts: int) -> None:
    timeouts = MongoTimeouts(server_selection=10.0, connect=10.0, operation=60.0)
    store = MongoStore(uri, database, timeouts=timeouts)
    await store.init()
    services = hold_services(store)
    await services.locations.all()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async def attempt(n: int) -> str:
        request = holds.HoldRequest(SKU, SHOPIFY_STORE, 1, customer_id=f"{name}-{n}")
        try:
            await holds.create(services, INTERNAL, request, now=T0)
        except OmnigateError as exc:
            return exc.code
        return "OK"

    outcomes = Counter(await asyncio.gather(*(attempt(n) for n in range(attempts))))
    print(f"won {outcomes['OK']} refused {outcomes['INSUFFICIENT_STOCK']}", flush=True)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
