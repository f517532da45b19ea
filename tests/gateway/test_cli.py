"""The `omnigate` command as a user runs it: a real subprocess against the sandboxes, with a
MongoDB-wire store (SecantusDB) so a second sync can be checked for duplicates."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from pymongo import AsyncMongoClient

from connectors.records import Source
from gateway.demo import DemoStack, sandboxes
from gateway.store import MongoStore
from resolvers.customers.sync import LEASE
from resolvers.store import DeadLetter
from tests.support import make_settings


@pytest.fixture(scope="module")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from secantus import SecantusDBServer

    with SecantusDBServer(storage_path=str(tmp_path_factory.mktemp("cli-db"))) as server:
        yield server.uri


async def omnigate(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        *args,
        env={**os.environ, "OMNIGATE_LOG_FORMAT": "text", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_schema_command_prints_the_sdl() -> None:
    code, output = await omnigate("schema", env={})
    assert code == 0
    assert "type Customer {" in output
    assert "@key" not in output
    code, output = await omnigate("schema", "--federation", env={})
    assert code == 0
    assert 'type Customer @key(fields: "id")' in output


def sync_env(stack: DemoStack, mongo_uri: str, database: str) -> dict[str, str]:
    shopify, square, klaviyo = (stack.settings.vendor(v) for v in ("shopify", "square", "klaviyo"))
    return {
        "MONGODB_URI": mongo_uri,
        "OMNIGATE_MONGODB_DATABASE": database,
        "OMNIGATE_SHOPIFY_SHOP": shopify.shop or "",
        "OMNIGATE_SHOPIFY_BASE_URL": shopify.base_url or "",
        "OMNIGATE_SHOPIFY_ACCESS_TOKEN": shopify.access_token.get_secret_value(),
        "OMNIGATE_SQUARE_BASE_URL": square.base_url,
        "OMNIGATE_SQUARE_ACCESS_TOKEN": square.access_token.get_secret_value(),
        "OMNIGATE_KLAVIYO_BASE_URL": klaviyo.base_url,
        "OMNIGATE_KLAVIYO_API_KEY": klaviyo.api_key.get_secret_value(),
        # The test server shares two cores with the whole suite: a backfill's store calls
        # (profiles, identities, the points each order earns) get the time a loaded test
        # machine needs, not the 2 s a real server answers well within.
        "OMNIGATE_MONGODB_TIMEOUT": "15",
    }


async def test_incremental_sync_reads_changes_and_waits_its_turn(mongo_uri: str) -> None:
    async with sandboxes(make_settings(), people=80, gateway_url="http://127.0.0.1:9") as stack:
        env = sync_env(stack, mongo_uri, "cli_incremental")
        code, backfill = await omnigate("sync", "customers", env=env)
        assert code == 0, backfill
        klaviyo = stack.sandboxes["klaviyo"]
        async with aiohttp.ClientSession() as http:
            await http.post(f"{klaviyo}/_sandbox/profiles", json={"email": "kit.low@example.org"})

        # Another process (a gateway replica's scheduler) holds the sync lease.
        store = MongoStore(mongo_uri, "cli_incremental")
        now = datetime.now(UTC)
        assert await store.leases.take_lease(LEASE, "replica-1", now=now, ttl=timedelta(minutes=5))
        code, skipped = await omnigate("sync", "customers", "--incremental", env=env)
        assert code == 1
        assert "skipped: another customer sync is running" in skipped
        await store.leases.release_lease(LEASE, "replica-1")
        await store.close()

        code, changes = await omnigate("sync", "customers", "--incremental", env=env)
        assert code == 0, changes
        assert "profiles: 1 created" in changes
        # Only what changed since the checkpoints: a small part of what the backfill read.
        everything, changed = records_read(backfill), records_read(changes)
        assert changed["klaviyo"] >= 1
        for source, count in changed.items():
            assert count * 10 < everything[source], (source, changed, everything)


def records_read(output: str) -> dict[str, int]:
    """``records read: shopify 80, square 51, klaviyo 62`` as a dict."""
    line = output.split("records read: ", 1)[1].splitlines()[0]
    return {name: int(n) for name, n in (part.rsplit(" ", 1) for part in line.split(", "))}


async def test_sync_customers_backfills_and_a_rerun_adds_no_duplicate(mongo_uri: str) -> None:
    async with sandboxes(make_settings(), people=80, gateway_url="http://127.0.0.1:9") as stack:
        env = sync_env(stack, mongo_uri, "cli_sync")
        code, first = await omnigate("sync", "customers", env=env)
        assert code == 0, first
        assert "records read: shopify" in first
        created = int(first.split("profiles: ")[1].split(" created")[0])
        assert created > 50

        code, second = await omnigate("sync", "customers", env=env)
        assert code == 0, second
        assert "profiles: 0 created" in second

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_uri)
    try:
        db = client["cli_sync"]
        assert await db["profiles"].count_documents({}) == created
        identities = await db["identities"].count_documents({})
        distinct = len(await db["identities"].distinct("profile_id"))
        assert distinct == created
        assert identities >= created
    finally:
        await client.close()


async def test_serve_in_production_with_demo_credentials_exits_saying_what_to_set() -> None:
    code, output = await omnigate(
        "serve",
        "--port",
        "9",
        env={
            "OMNIGATE_ENVIRONMENT": "production",
            "OMNIGATE_CUSTOMER_TOKEN_SECRET": "",
            "OMNIGATE_DEMO": "false",
        },
    )
    assert code == 2, output
    assert "OMNIGATE_CUSTOMER_TOKEN_SECRET is not set" in output
    assert "Traceback" not in output


async def test_demo_in_production_exits_saying_what_to_set() -> None:
    code, output = await omnigate(
        "demo",
        "--port",
        "9",
        "--people",
        "5",
        env={
            "OMNIGATE_ENVIRONMENT": "production",
            "OMNIGATE_CUSTOMER_TOKEN_SECRET": "demo-customer-secret-change-me-0123456789",
        },
    )
    assert code == 2, output
    assert "demo secret" in output
    assert "OMNIGATE_DEMO" in output
    assert "Traceback" not in output


async def test_webhooks_dead_letters_lists_kept_deliveries_without_their_bodies(
    mongo_uri: str,
) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_uri)
    try:
        store = MongoStore(client, "cli_dead")  # type: ignore[arg-type]
        await store.init()
        await store.webhooks.put_dead_letter(
            DeadLetter(
                source=Source("shopify"),
                body_digest="ab" * 32,
                reason="customers/update: email: Input should be a valid string",
                received_at=datetime.now(UTC),
                body=b'{"id": 1, "email": 123, "first_name": "Secret"}',
                topic="customers/update",
                event_id="evt-cli",
            )
        )
    finally:
        await client.close()
    env = {"MONGODB_URI": mongo_uri, "OMNIGATE_MONGODB_DATABASE": "cli_dead"}
    code, output = await omnigate("webhooks", "dead-letters", env=env)
    assert code == 0, output
    assert "shopify  customers/update  evt-cli  " + "ab" * 32 in output
    assert "email: Input should be a valid string" in output
    assert "Secret" not in output
