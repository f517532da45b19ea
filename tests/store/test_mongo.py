"""What only the MongoDB store has: indexes, the TTL backstops, transactions that roll back
(a hold whose recording fails, a ledger entry the server refuses), and error mapping. Runs on
SecantusDB and, with ``MONGODB_URI``, on a real server (a replica set)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from connectors.records import Source
from gateway.store import MongoStore
from gateway.store.mongo.base import is_replica_set
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
    assert keys(ledger["account_id_at_key"])[:2] == [("account_id", 1), ("at", -1)]

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


async def test_only_finished_holds_carry_a_purge_date(mongo: MongoStore) -> None:
    await mongo.inventory.apply_stock_level(level(available=3))
    created = await mongo.inventory.create_hold(hold("h1", key="cart-1"))
    unkeyed = await mongo.inventory.create_hold(hold("h2"))
    assert created is not None
    assert unkeyed is not None
    raw = await mongo.database["holds"].find_one({"_id": "h1"})
    assert raw is not None
    # An unfinished hold is never purged: its units would stay in ``held`` for good.
    assert "purge_at" not in raw
    finished = await mongo.inventory.finish_hold("h1", HoldStatus.RELEASED)
    assert finished is not None
    assert finished.hold.finished_at is not None
    raw = await mongo.database["holds"].find_one({"_id": "h1"})
    assert raw is not None
    assert raw["purge_at"] == finished.hold.finished_at + timedelta(days=30)
    # Holds without a key store no key field, so the unique partial index never sees them.
    assert "idempotency_key" not in (await mongo.database["holds"].find_one({"_id": "h2"}) or {})
    assert await mongo.inventory.create_hold(hold("h3")) is not None  # a second unkeyed is fine


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
    [stock] = await store.inventory.get_stock(["SKU-1"])
    return stock.sellable


async def test_a_crash_between_reserving_and_recording_a_hold_strands_no_units(
    mongo: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reservation and hold document are one transaction: a crash before the hold is
    recorded rolls the reservation back, so the units are not stranded in ``held``."""
    assert is_replica_set(await mongo.database.command("hello"))  # transactions
    inventory = mongo.inventory
    await inventory.apply_stock_level(level(available=3))
    monkeypatch.setattr(inventory, "_holds", CrashOnInsert(inventory._holds))
    with pytest.raises(Crash):
        await inventory.create_hold(hold("h1", qty=2))
    monkeypatch.undo()
    assert await sellable(mongo) == 3
    assert await inventory.get_hold("h1") is None
    assert await inventory.create_hold(hold("h2", qty=3)) is not None
    assert await sellable(mongo) == 0
    finished = await inventory.finish_hold("h2", HoldStatus.RELEASED)
    assert finished is not None
    assert await sellable(mongo) == 3


async def winning_plan(store: MongoStore, query: dict[str, Any]) -> str:
    plan = await store.database["profiles"].find(query).limit(5).explain()
    return str(plan["queryPlanner"]["winningPlan"])


async def test_counter_lookups_are_index_scans(
    mongo: MongoStore, skip_on: Callable[[str, str], None]
) -> None:
    for n in range(20):
        await mongo.profiles.put_profile(
            ProfileDoc(id=f"p{n}", body={}, emails=[f"u{n}@x.io"], names=[f"lee{n}", "ann"])
        )
    assert "IXSCAN" in await winning_plan(mongo, {"emails": "u3@x.io"})
    skip_on(
        "secantus",
        "SecantusDB plans an anchored $regex as COLLSCAN; MongoDB scans the index range",
    )
    assert "IXSCAN" in await winning_plan(mongo, {"names": {"$regex": "^lee1"}})


async def test_datetimes_come_back_utc_aware(mongo: MongoStore) -> None:
    await mongo.inventory.apply_stock_level(level(at=T0))
    [stock] = await mongo.inventory.get_stock(["SKU-1"])
    assert stock.updated_at == T0
    assert stock.updated_at.utcoffset() == timedelta(0)


# --- failure injection (configureFailPoint: SecantusDB, or a mongod with test commands) --------


@pytest.fixture
async def failing(
    mongo_uri: str | None, mongo_client: AsyncMongoClient[Doc]
) -> AsyncIterator[tuple[MongoStore, Any]]:
    """A store on its own client (own ``appName``), so a failpoint hits only its commands."""
    assert mongo_uri is not None
    app = f"omnigate-failing-{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_uri, appname=app)
    store = MongoStore(client, f"omnigate_test_{uuid.uuid4().hex[:12]}")
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
    inventory = store.inventory
    await inventory.apply_stock_level(level(available=1))
    await fail(["insert"], code=2)  # BadValue: not retried by the driver
    with pytest.raises(StoreError):
        await inventory.create_hold(hold("h1"))
    assert await inventory.get_hold("h1") is None
    [stock] = await inventory.get_stock(["SKU-1"])
    assert stock.held == 0
    assert await inventory.create_hold(hold("h2")) is not None


async def test_a_transaction_the_server_refuses_is_a_store_error_and_writes_nothing(
    failing: tuple[MongoStore, Any],
) -> None:
    """``IllegalOperation``, what a standalone mongod answers to the first command of a
    transaction: there is no second code path to fall back to, so the entry fails whole."""
    store, fail = failing
    ledger = store.ledger
    await fail(["insert"], code=20)
    with pytest.raises(StoreError):
        await ledger.apply_ledger_entry(entry("earn:1", 40))
    assert await ledger.ledger_entries("acct-1") == []
    assert await ledger.get_account("acct-1") is None
    result, account = await ledger.apply_ledger_entry(entry("earn:1", 40))
    assert (result, account.balance) == (LedgerResult.APPLIED, 40)
    result, _ = await ledger.apply_ledger_entry(entry("earn:1", 40))
    assert result is LedgerResult.DUPLICATE
    assert len(await ledger.ledger_entries("acct-1")) == 1


async def test_driver_errors_become_store_errors(failing: tuple[MongoStore, Any]) -> None:
    store, fail = failing
    await fail(["find"], code=2)
    with pytest.raises(StoreError) as raised:
        await store.profiles.get_profiles(["p1"])
    assert isinstance(raised.value.__cause__, OperationFailure)
    await fail(["findAndModify"], code=2)
    with pytest.raises(StoreError):
        await store.inventory.finish_hold("h1", HoldStatus.RELEASED)
    assert await store.webhooks.record_receipt(Source("shopify"), "e1", T0) is True
