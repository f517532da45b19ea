"""The :class:`~resolvers.store.CheckpointStore` contract, on every backend (see
``tests/store/conftest.py``)."""

from __future__ import annotations

from resolvers.store import CheckpointStore
from tests.store.builders import T0


async def test_checkpoints_round_trip(checkpoints: CheckpointStore) -> None:
    assert await checkpoints.get_checkpoint("shopify:orders") is None
    value = {"cursor": "abc", "since": T0, "pages": [1, 2]}
    await checkpoints.set_checkpoint("shopify:orders", value)
    got = await checkpoints.get_checkpoint("shopify:orders")
    assert got == value
    assert got is not None
    assert got["since"].tzinfo is not None
    await checkpoints.set_checkpoint("shopify:orders", {"cursor": "def"})
    assert await checkpoints.get_checkpoint("shopify:orders") == {"cursor": "def"}
