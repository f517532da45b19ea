"""The memory store at demo scale, the factory, and the MongoDB store with no server."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from connectors.records import Source
from gateway.store import MemoryStore, MongoStore, open_store
from gateway.store.timeutil import utc_now
from resolvers.model import ProfileDoc
from resolvers.store import DeadLetter, StoreError

FIRST = ("ann", "bob", "cyd", "dee", "eve", "fay", "gus", "hal", "ida", "jon")


async def test_memory_lookups_stay_fast_at_demo_scale() -> None:
    """50,000 profiles: every lookup is an index probe. The bound is loose (a scan of 150,000
    name keys per lookup would blow it by orders of magnitude) so slow CI does not flake."""
    store = MemoryStore()
    for n in range(50_000):
        first, last = FIRST[n % 10], f"smith{n:05d}"
        await store.profiles.put_profile(
            ProfileDoc(
                id=f"p{n:05d}",
                body={"n": n},
                emails=[f"u{n}@example.com"],
                phones=[f"+1555{n % 25_000:07d}"],
                names=[first, last, f"{first} {last}"],
            )
        )
    await store.profiles.find_profiles(name_prefix="warm-up")  # folds the bulk load into the index

    started = time.perf_counter()
    for n in range(0, 50_000, 50):
        assert len(await store.profiles.find_profiles(email=f"u{n}@example.com")) == 1
        assert len(await store.profiles.find_profiles(phone=f"+1555{n % 25_000:07d}")) == 2
        found = await store.profiles.find_profiles(name_prefix=f"smith{n:05d}"[:8], limit=10)
        assert len(found) == 10
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"3,000 lookups took {elapsed:.2f}s"

    # Interleaved writes and reads keep the sorted index exact.
    await store.profiles.put_profile(ProfileDoc(id="p00000", body={}, names=["zoe"]))
    assert [d.id for d in await store.profiles.find_profiles(name_prefix="zo")] == ["p00000"]
    assert "p00000" not in {
        d.id for d in await store.profiles.find_profiles(name_prefix="smith00000")
    }


def test_open_store_picks_the_backend() -> None:
    assert isinstance(open_store(None, "omnigate"), MemoryStore)
    mongo = open_store("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100", "omnigate")
    assert isinstance(mongo, MongoStore)
    assert mongo.kind == "mongo"
    assert mongo.database.name == "omnigate"


async def test_unreachable_mongo_is_a_store_error_and_not_ready() -> None:
    store = MongoStore("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", "omnigate")
    try:
        assert await store.ping() is False
        with pytest.raises(StoreError) as raised:
            await store.profiles.get_profiles(["p1"])
        assert "127.0.0.1" not in str(raised.value)  # the message stays generic
    finally:
        await store.close()


async def test_memory_forgets_dead_letters_after_their_retention() -> None:
    """Like the MongoDB TTL index: a letter's raw body (personal data) is not kept forever."""
    store = MemoryStore(dead_letter_retention=timedelta(days=14))
    now = utc_now()
    for digest, age in (("fresh", timedelta(days=13)), ("expired", timedelta(days=15))):
        await store.webhooks.put_dead_letter(
            DeadLetter(
                source=Source("shopify"),
                body_digest=digest,
                reason="r",
                received_at=now - age,
                body=b"{}",
            )
        )
    assert [d.body_digest for d in await store.webhooks.dead_letters()] == ["fresh"]
    assert await store.webhooks.count_dead_letters() == 1
    assert await store.webhooks.dead_letter(Source("shopify"), "expired") is None
