"""Two gateway processes sharing one SecantusDB store, in front of the demo sandboxes (each
in a process of its own, as ``bench/stock.py`` runs them): 100 tills racing for the same
points through both gateways at once spend them exactly once, and one till's retry that
lands on both gateways at the same moment writes one entry.

Processes, not two apps in one event loop: each gateway has its own client, connection pool
and per-process write queue (``gateway/store/mongo/ledger.py`` queues an account's writes
within a process), so only the store's own conditional update stands between the two."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from pymongo import MongoClient

from bench.harness import free_port, gateway_process, sandbox_processes
from gateway.settings import TokenGrant
from tests.store.backends import fresh_database_name
from tests.support import codes, gql

pytestmark = [pytest.mark.mongo, pytest.mark.slow]

#: Enough people for a handful of members, few enough that the start-up sync is quick.
PEOPLE = 40
#: Shopify's sandbox paces calls like a Standard shop; the sync of these tests need not wait.
ROOMY_BUCKET = {"maximumAvailable": 20_000, "currentlyAvailable": 20_000, "restoreRate": 100_000}

ADJUST = """mutation($id: ID!, $points: Int!, $reason: String!) {
  adjustPoints(customerId: $id, points: $points, reason: $reason) { id points }
}"""
REDEEM = """mutation($input: RedeemPointsInput!) {
  redeemPoints(input: $input) { id kind points }
}"""
LOOKUP = """query($q: String!) { customerLookup(query: $q, first: 1) { id } }"""
LOYALTY = """query($id: ID!) { customer(id: $id) { loyalty {
  points lifetimePoints history(first: 100) { id kind points }
} } }"""


@dataclass(frozen=True)
class Replicas:
    urls: tuple[str, str]
    emails: list[str]
    store_location: str


@pytest.fixture(scope="module")
def replicas(secantus_uri: str) -> Iterator[Replicas]:
    """Sandboxes and two gateways on one fresh database. A sync fixture: the processes are
    started and joined with blocking calls, outside any test's event loop. The first gateway
    backfills the customers from the sandboxes; the second serves the same store."""
    database = fresh_database_name()
    port, other = free_port(), free_port()
    with sandbox_processes(PEOPLE, f"http://127.0.0.1:{port}") as stack:
        post_json(f"{stack.sandboxes['shopify']}/_sandbox/throttle", ROOMY_BUCKET)
        store = next(loc for loc in stack.world.stores if loc.shopify_location_id is not None)
        location = f"shopify:{store.shopify_location_id}"
        tokens: dict[str, TokenGrant] = {
            **stack.settings.tokens,
            "till": TokenGrant(role="staff", locations=[location], name="till"),
        }
        settings = stack.settings.model_copy(
            update={
                "mongodb_uri": SecretStr(secantus_uri),
                "mongodb_database": database,
                "tokens": tokens,
                "log_level": "WARNING",
                "sync_interval_seconds": 0,
                "stock_warmup": False,
                "stock_reconcile_seconds": 0,
                # Orders earn nothing here, so the members' balances are only what these
                # tests give and spend (earning has its own tests; its sync would race them).
                "loyalty_earn_rate": Decimal(0),
            }
        )
        emails = [p.email for p in stack.world.people if p.email and p.shopify_customer_id]
        try:
            with (
                gateway_process(settings.model_copy(update={"sync_on_start": True}), port) as one,
                gateway_process(settings.model_copy(update={"sync_on_start": False}), other) as two,
            ):
                yield Replicas(urls=(one, two), emails=emails, store_location=location)
        finally:
            with MongoClient(secantus_uri) as client:
                client.drop_database(database)


def post_json(url: str, body: dict[str, Any]) -> None:
    """A blocking POST for the sync fixture (aiohttp needs an event loop)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


async def call(
    http: aiohttp.ClientSession,
    url: str,
    query: str,
    token: str = "demo-internal",
    **variables: Any,
) -> dict[str, Any]:
    status, body = await gql(http, url, query, token=token, variables=variables)
    assert status == 200, body
    return body


async def member(http: aiohttp.ClientSession, replicas: Replicas, n: int) -> str:
    """The unified id of the ``n``-th demo person with a Shopify account, once the first
    gateway's start-up sync has stored them (both gateways then see the same profile)."""
    email = replicas.emails[n]
    deadline = time.monotonic() + 60
    while True:
        for url in replicas.urls:
            found = (await call(http, url, LOOKUP, q=email)).get("data") or {}
            if not found.get("customerLookup"):
                break
        else:
            return str(found["customerLookup"][0]["id"])
        assert time.monotonic() < deadline, f"{email} never reached the store"
        await asyncio.sleep(0.2)


def redemption(replicas: Replicas, customer: str, key: str, points: int = 10) -> dict[str, Any]:
    return {
        "input": {
            "customerId": customer,
            "points": points,
            "idempotencyKey": key,
            "locationId": replicas.store_location,
            "channel": "in_store",
        }
    }


async def ledger(http: aiohttp.ClientSession, url: str, customer: str) -> dict[str, Any]:
    body = await call(http, url, LOYALTY, id=customer)
    assert "errors" not in body, body
    account: dict[str, Any] = body["data"]["customer"]["loyalty"]
    return account


async def test_100_tills_on_two_gateways_spend_100_points_once(replicas: Replicas) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
        customer = await member(http, replicas, 0)
        one = replicas.urls[0]
        assert (await ledger(http, one, customer))["points"] == 0
        given = await call(http, one, ADJUST, id=customer, points=100, reason="race")
        assert given["data"]["adjustPoints"]["points"] == 100, given

        bodies = await asyncio.gather(
            *(
                call(
                    http,
                    replicas.urls[n % 2],
                    REDEEM,
                    token="till",
                    **redemption(replicas, customer, f"till-{n}"),
                )
                for n in range(100)
            )
        )
        won = [b for b in bodies if "errors" not in b]
        refused = [codes(b) for b in bodies if "errors" in b]
        assert len(won) == 10
        assert refused == [["INSUFFICIENT_POINTS"]] * 90
        # Which gateway wins how many is the scheduler's business (often one takes all ten):
        # what holds is the total, whichever process each request reached.

        for url in replicas.urls:  # either gateway reads the same ledger
            account = await ledger(http, url, customer)
            redeems = [e for e in account["history"] if e["kind"] == "REDEEM"]
            assert account["points"] == 0
            assert len(redeems) == 10
            assert {e["points"] for e in redeems} == {-10}
            assert account["points"] == sum(e["points"] for e in account["history"])


async def test_one_retry_sent_to_both_gateways_at_once_writes_one_entry(
    replicas: Replicas,
) -> None:
    async with aiohttp.ClientSession() as http:
        customer = await member(http, replicas, 1)
        await call(http, replicas.urls[0], ADJUST, id=customer, points=100, reason="retry")
        sale = redemption(replicas, customer, "till-3:sale-9", points=30)
        bodies = await asyncio.gather(
            *(call(http, url, REDEEM, token="till", **sale) for url in replicas.urls * 3)
        )
        assert all("errors" not in b for b in bodies), bodies
        assert len({b["data"]["redeemPoints"]["id"] for b in bodies}) == 1
        account = await ledger(http, replicas.urls[1], customer)
        assert account["points"] == 70
        assert [e["kind"] for e in account["history"]].count("REDEEM") == 1


async def test_a_retry_the_balance_no_longer_covers_returns_the_first_answer(
    replicas: Replicas,
) -> None:
    async with aiohttp.ClientSession() as http:
        customer = await member(http, replicas, 2)
        await call(http, replicas.urls[0], ADJUST, id=customer, points=50, reason="retry")
        sale = redemption(replicas, customer, "till-4:sale-1", points=30)
        first = await call(http, replicas.urls[0], REDEEM, token="till", **sale)
        again = await call(http, replicas.urls[1], REDEEM, token="till", **sale)
        assert "errors" not in first, first
        assert again == first  # one entry, however many gateways the till's retries reach
        account = await ledger(http, replicas.urls[1], customer)
        assert account["points"] == 20
