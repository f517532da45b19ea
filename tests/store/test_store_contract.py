"""The composite :class:`~resolvers.store.Store`: one of each port on one backend, started and
stopped together (each port's own contract is in ``test_<port>_contract.py``)."""

from __future__ import annotations

from resolvers.store import Store


async def test_ping(store: Store) -> None:
    assert await store.ping() is True
    assert store.kind in ("memory", "mongo")


async def test_init_is_idempotent(store: Store) -> None:
    """The gateway calls ``init`` at every start-up, and again while retrying an outage."""
    await store.init()  # the fixture initialised it already
    assert await store.ping() is True
