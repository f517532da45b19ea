"""What only the MongoDB store has: indexes, the TTL backstops, the non-transactional ledger
path, the give-back when recording a hold fails, and error mapping. Runs on SecantusDB and,
with ``MONGODB_URI``, on a real server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from connectors.records import Source
from gateway.store import MongoStore
from gateway.store.mongo import RECENT_KEYS
from resolvers.model import HoldStatus, LedgerResult, ProfileDoc
from resolvers.store import StoreError
from tests.store.builders import T0, Doc, MongoStoreFactory, entry, hold, level

pytestmark = pytest.mark.mongo


@pytest.fixture(params=["secantus", "real-mongo"])
def backend(request: pytest.FixtureRequest) -> str:
    """Overrides the conftest's: these checks have no memory counterpart."""
    name: str = request.param
    return name


@pytest.fixture
async def mongo(make_mongo_store: MongoStoreFactory) -> MongoStore:
    return await make_mongo_store()


async def indexes(store: MongoStore, collection: str) -> dict[str, dict[str, Any]]:
    cursor = await store.database[collection].list_indexes()
    return {raw["name"]: dict(raw) async for raw in cursor}


def keys(index: dict[str, Any]) -> list[tuple[str, int]]:
    return [(name, int(direction)) for name, direction in index["key"].items()]


async def test_indexes_exist_with_the_right_options(mongo: MongoStore) -> None:
    await mongo.init()  # a second init is a no-op

    profiles = await indexes(mongo, "profiles")
    for field in ("emails", "phones", "names"):
        assert keys(profiles[field]) == [(field, 1)]

    identities = await indexes(mongo, "identities")
    assert keys(identities["source_source_id"]) == [("source", 1), ("source_id", 1)]
    assert identities["source_source_id"].get("unique") is True
    for field in ("profile_id", "emails", "phones"):
        assert keys(identities[field]) == [(field, 1)]

    stock = await indexes(mongo, "stock")
    assert keys(stock["sku_location_id"]) == [("sku", 1), ("location_id", 1)]
    assert stock["sku_location_id"].get("unique") is True

    holds = await indexes(mongo, "holds")
    assert keys(holds["status_expiry"]) == [("status", 1), ("expires_at", 1)]
    assert holds["idempotency_key"].get("unique") is True
    assert holds["idempotency_key"]["partialFilterExpression"] == {
        "idempotency_key": {"$type": "string"}
    }
    assert keys(holds["purge_at_ttl"]) == [("purge_at", 1)]
    assert holds["purge_at_ttl"]["expireAfterSeconds"] == 0

    ledger = await indexes(mongo, "ledger")
    assert keys(ledger["key"]) == [("key", 1)]
    assert ledger["key"].get("unique") is True
    assert keys(ledger["account_id_at"])[:2] == [("account_id", 1), ("at", -1)]

    receipts = await indexes(mongo, "webhook_receipts")
    assert keys(receipts["source_event_id"]) == [("source", 1), ("event_id", 1)]
    assert receipts["source_event_id"].get("unique") is True
    assert keys(receipts["received_at_ttl"]) == [("received_at", 1)]
    assert receipts["received_at_ttl"]["expireAfterSeconds"] == 7 * 24 * 3600

    merge_log = await indexes(mongo, "merge_log")
    assert keys(merge_log["profile_ids_at"])[0] == ("profile_ids", 1)


async def test_changed_receipt_retention_retunes_the_ttl(
    mongo: MongoStore, mongo_client: AsyncMongoClient[Doc]
) -> None:
    retuned = MongoStore(mongo_client, mongo.database.name, receipt_retention=timedelta(days=2))
    await retuned.init()
    receipts = await indexes(retuned, "webhook_receipts")
    assert receipts["received_at_ttl"]["expireAfterSeconds"] == 2 * 24 * 3600


async def test_dead_letters_are_unique_per_body_and_expire(
    mongo: MongoStore, mongo_client: AsyncMongoClient[Doc]
) -> None:
    letters = await indexes(mongo, "dead_letters")
    assert keys(letters["source_body_digest"]) == [("source", 1), ("body_digest", 1)]
    assert letters["source_body_digest"].get("unique") is True
    assert keys(letters["source_at"]) == [("source", 1), ("received_at", -1)]
    assert keys(letters["received_at_ttl"]) == [("received_at", 1)]
    assert letters["received_at_ttl"]["expireAfterSeconds"] == 14 * 24 * 3600
    retuned = MongoStore(mongo_client, mongo.database.name, dead_letter_retention=timedelta(days=3))
    await retuned.init()
    letters = await indexes(retuned, "dead_letters")
    assert letters["received_at_ttl"]["expireAfterSeconds"] == 3 * 24 * 3600


async def test_hold_documents_carry_a_late_purge_date(mongo: MongoStore) -> None:
    await mongo.apply_stock_level(level(available=3))
    created = await mongo.create_hold(hold("h1", key="cart-1"))
    unkeyed = await mongo.create_hold(hold("h2"))
    assert created is not None
    assert unkeyed is not None
    raw = await mongo.database["holds"].find_one({"_id": "h1"})
    assert raw is not None
    assert raw["purge_at"] == created.expires_at + timedelta(days=30)
    # Holds without a key store no key field, so the unique partial index never sees them.
    assert "idempotency_key" not in (await mongo.database["holds"].find_one({"_id": "h2"}) or {})
    assert await mongo.create_hold(hold("h3")) is not None  # a second unkeyed hold is fine


class Crash(BaseException):
    """The process dying mid-operation: not an ``Exception``, so no handler gives anything
    back; only the server (an aborted transaction) can."""


class CrashOnInsert:
    """The holds collection, except that recording a hold dies after the reservation."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def insert_one(self, *args: Any, **kwargs: Any) -> Any:
        raise Crash


async def sellable(store: MongoStore) -> int:
    [stock] = await store.get_stock(["SKU-1"])
    return stock.sellable


async def test_a_crash_between_reserving_and_recording_a_hold_strands_no_units(
    mongo: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reservation and hold document are one transaction: a crash before the hold is
    recorded rolls the reservation back, so the units are not stranded in ``held``."""
    assert await mongo._supports_transactions()
    await mongo.apply_stock_level(level(available=3))
    monkeypatch.setattr(mongo, "_holds", CrashOnInsert(mongo._holds))
    with pytest.raises(Crash):
        await mongo.create_hold(hold("h1", qty=2))
    monkeypatch.undo()
    assert await sellable(mongo) == 3
    assert await mongo.get_hold("h1") is None
    assert await mongo.create_hold(hold("h2", qty=3)) is not None
    assert await sellable(mongo) == 0
    finished = await mongo.finish_hold("h2", HoldStatus.RELEASED)
    assert finished is not None
    assert await sellable(mongo) == 3


async def winning_plan(store: MongoStore, query: dict[str, Any]) -> str:
    plan = await store.database["profiles"].find(query).limit(5).explain()
    return str(plan["queryPlanner"]["winningPlan"])


async def test_counter_lookups_are_index_scans(
    mongo: MongoStore, skip_on: Callable[[str, str], None]
) -> None:
    for n in range(20):
        await mongo.put_profile(
            ProfileDoc(id=f"p{n}", body={}, emails=[f"u{n}@x.io"], names=[f"lee{n}", "ann"])
        )
    assert "IXSCAN" in await winning_plan(mongo, {"emails": "u3@x.io"})
    skip_on(
        "secantus",
        "SecantusDB plans an anchored $regex as COLLSCAN; MongoDB scans the index range",
    )
    assert "IXSCAN" in await winning_plan(mongo, {"names": {"$regex": "^lee1"}})


async def test_datetimes_come_back_utc_aware(mongo: MongoStore) -> None:
    await mongo.apply_stock_level(level(at=T0))
    [stock] = await mongo.get_stock(["SKU-1"])
    assert stock.updated_at == T0
    assert stock.updated_at.utcoffset() == timedelta(0)


# --- the ledger without transactions (standalone mongod) ---------------------------------------


@pytest.fixture
async def sequential(make_mongo_store: MongoStoreFactory) -> MongoStore:
    return await make_mongo_store(transactions=False)


async def test_sequential_ledger_keeps_the_contract(sequential: MongoStore) -> None:
    result, account = await sequential.apply_ledger_entry(entry("earn:1", 100))
    assert (result, account.balance) == (LedgerResult.APPLIED, 100)
    result, account = await sequential.apply_ledger_entry(entry("earn:1", 100))
    assert (result, account.balance) == (LedgerResult.DUPLICATE, 100)
    result, account = await sequential.apply_ledger_entry(entry("redeem:1", -101))
    assert (result, account.balance) == (LedgerResult.INSUFFICIENT_BALANCE, 100)
    assert [e.key for e in await sequential.ledger_entries("acct-1")] == ["earn:1"]

    results = await asyncio.gather(
        *(sequential.apply_ledger_entry(entry(f"redeem:{n}", -15)) for n in range(20)),
        *(sequential.apply_ledger_entry(entry("earn:1", 100)) for _ in range(5)),
    )
    assert [r for r, _ in results].count(LedgerResult.APPLIED) == 6
    final = await sequential.get_account("acct-1")
    assert final is not None
    assert (final.balance, final.lifetime_earned, final.lifetime_redeemed) == (10, 100, 90)
    assert len(await sequential.ledger_entries("acct-1")) == 7

    assert await sequential.anonymise_account("acct-1", "anon-1") == 7
    anon = await sequential.get_account("anon-1")
    assert anon is not None
    assert anon.balance == 10


async def test_sequential_ledger_finishes_an_interrupted_write(sequential: MongoStore) -> None:
    """A crash after the balance moved but before the entry was written: the retry with the
    same key writes the entry instead of moving the balance again."""
    accounts = sequential.database["accounts"]
    await accounts.update_one(
        {"_id": "acct-1"},
        {"$inc": {"balance": 50, "lifetime_earned": 50}, "$push": {"recent_keys": "earn:7"}},
        upsert=True,
    )
    result, account = await sequential.apply_ledger_entry(entry("earn:7", 50))
    assert (result, account.balance) == (LedgerResult.DUPLICATE, 50)
    assert [e.key for e in await sequential.ledger_entries("acct-1")] == ["earn:7"]
    result, account = await sequential.apply_ledger_entry(entry("earn:7", 50))
    assert (result, account.balance) == (LedgerResult.DUPLICATE, 50)


async def test_sequential_ledger_remembers_a_bounded_window(sequential: MongoStore) -> None:
    for n in range(RECENT_KEYS + 10):
        await sequential.apply_ledger_entry(entry(f"earn:{n}", 1))
    raw = await sequential.database["accounts"].find_one({"_id": "acct-1"})
    assert raw is not None
    assert len(raw["recent_keys"]) == RECENT_KEYS
    assert raw["recent_keys"][-1] == f"earn:{RECENT_KEYS + 9}"
    result, _ = await sequential.apply_ledger_entry(entry("earn:0", 1))  # out of the window
    assert result is LedgerResult.DUPLICATE  # the ledger's unique key still catches it


# --- failure injection (configureFailPoint: SecantusDB, or a mongod with test commands) --------


@pytest.fixture
async def failing(
    mongo_uri: str | None, mongo_client: AsyncMongoClient[Doc]
) -> AsyncIterator[tuple[MongoStore, Any]]:
    """A store on its own client (own ``appName``), so a failpoint hits only its commands."""
    assert mongo_uri is not None
    app = f"omnigate-failing-{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_uri, appname=app)
    # Transactions forced on: the fallback test needs the first attempt to be one (a real
    # standalone refuses it the same way, and the store then falls back for good).
    store = MongoStore(client, f"omnigate_test_{uuid.uuid4().hex[:12]}", transactions=True)
    await store.init()

    async def fail(commands: list[str], code: int, times: int = 1, **data: Any) -> None:
        try:
            await mongo_client.admin.command(
                "configureFailPoint",
                "failCommand",
                mode={"times": times},
                data={"failCommands": commands, "errorCode": code, "appName": app, **data},
            )
        except OperationFailure as exc:
            pytest.skip(f"server has no test commands: {exc}")

    try:
        yield store, fail
    finally:
        await mongo_client.admin.command("configureFailPoint", "failCommand", mode="off")
        await client.drop_database(store.database.name)
        await client.close()


async def test_failed_hold_insert_gives_the_units_back(failing: tuple[MongoStore, Any]) -> None:
    store, fail = failing
    await store.apply_stock_level(level(available=1))
    await fail(["insert"], code=2)  # BadValue: not retried by the driver
    with pytest.raises(StoreError):
        await store.create_hold(hold("h1"))
    assert await store.get_hold("h1") is None
    [stock] = await store.get_stock(["SKU-1"])
    assert stock.held == 0
    assert await store.create_hold(hold("h2")) is not None


async def test_ledger_falls_back_when_the_server_refuses_transactions(
    failing: tuple[MongoStore, Any],
) -> None:
    """What a standalone mongod answers to the first command of a transaction."""
    store, fail = failing
    await fail(["insert"], code=20)
    result, account = await store.apply_ledger_entry(entry("earn:1", 40))
    assert (result, account.balance) == (LedgerResult.APPLIED, 40)
    result, _ = await store.apply_ledger_entry(entry("earn:1", 40))
    assert result is LedgerResult.DUPLICATE
    assert len(await store.ledger_entries("acct-1")) == 1


async def test_driver_errors_become_store_errors(failing: tuple[MongoStore, Any]) -> None:
    store, fail = failing
    await fail(["find"], code=2)
    with pytest.raises(StoreError) as raised:
        await store.get_profiles(["p1"])
    assert isinstance(raised.value.__cause__, OperationFailure)
    await fail(["findAndModify"], code=2)
    with pytest.raises(StoreError):
        await store.finish_hold("h1", HoldStatus.RELEASED)
    assert await store.record_receipt(Source.SHOPIFY, "e1", T0) is True
