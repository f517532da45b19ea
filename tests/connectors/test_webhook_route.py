"""``POST /webhooks/<vendor>`` when things go wrong: the store down at any step, a handler
failing, a body that can never be applied. The route runs on loopback in a bare Starlette
app, with the real Shopify endpoint and a memory store whose steps can be made to fail with
:class:`StoreError` (what the MongoDB store raises in an outage)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from connectors.errors import UpstreamUnavailable
from connectors.records import InventoryChanged, Source, WebhookEvent
from connectors.registry import ConnectorSet
from connectors.shopify.webhooks import ShopifyWebhooks
from gateway.dead_letters import describe, list_letters, replay_letters
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from gateway.store.memory import MemoryInventory, MemoryWebhooks
from gateway.webhooks import CLAIM_LEASE, WebhookRoute
from resolvers.context import Services
from resolvers.events import EventBus
from resolvers.model import StockChange, StockLevel
from resolvers.store import DeadLetter, ReceiptClaim, StoreError
from resolvers.webhook_events import WebhookDispatcher
from sandboxes.base.webhooks import sign_shopify
from tests.support import serve

SECRET = "route-secret"
ITEM = 271878346596884015
LOCATION = 53716844710
SKU = "TEE-ORG-BLK-M"


class FlakyStore(MemoryStore):
    """A memory store whose named steps raise :class:`StoreError` while listed in ``down``:
    ``receipts`` (recording or claiming one), ``release``, ``stock`` and ``dead_letters``."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()
        self.webhooks = FlakyWebhooks(self._check)
        self.inventory = FlakyInventory(self._check)

    def _check(self, step: str) -> None:
        if step in self.down:
            raise StoreError(f"mongo {step} failed: ServerSelectionTimeoutError")


class FlakyWebhooks(MemoryWebhooks):
    def __init__(self, check: Callable[[str], None]) -> None:
        super().__init__()
        self._check = check

    async def record_receipt(self, source: Source, event_id: str, received_at: datetime) -> bool:
        self._check("receipts")
        return await super().record_receipt(source, event_id, received_at)

    async def claim_receipt(
        self, source: Source, key: str, now: datetime, *, lease: timedelta
    ) -> ReceiptClaim:
        self._check("receipts")
        return await super().claim_receipt(source, key, now, lease=lease)

    async def complete_receipt(self, source: Source, key: str) -> None:
        self._check("receipts")
        await super().complete_receipt(source, key)

    async def release_receipt(self, source: Source, event_id: str) -> None:
        self._check("release")
        await super().release_receipt(source, event_id)

    async def put_dead_letter(self, letter: DeadLetter) -> bool:
        self._check("dead_letters")
        return await super().put_dead_letter(letter)


class FlakyInventory(MemoryInventory):
    def __init__(self, check: Callable[[str], None]) -> None:
        super().__init__()
        self._check = check

    async def apply_stock_level(
        self, level: StockLevel, *, cause: str = "webhook"
    ) -> StockChange | None:
        self._check("stock")
        return await super().apply_stock_level(level, cause=cause)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Route_:
    url: str
    store: FlakyStore
    dispatcher: WebhookDispatcher
    clock: Clock
    handled: list[WebhookEvent]
    http: aiohttp.ClientSession
    webhooks: WebhookRoute

    async def post(
        self, body: bytes, *, topic: str = "inventory_levels/update", event_id: str = "evt-1"
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign_shopify(SECRET, body),
            "X-Shopify-Event-Id": event_id,
        }
        async with self.http.post(f"{self.url}/webhooks/shopify", data=body, headers=headers) as r:
            text = await r.text()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = {"raw": text}
            return r.status, dict(r.headers), payload

    async def level(self) -> StockLevel | None:
        found = await self.store.inventory.get_stock([SKU], [f"shopify:{LOCATION}"])
        return found[0] if found else None


@pytest.fixture
async def route() -> AsyncIterator[Route_]:
    store = FlakyStore()
    services = compose_services(store=store, connectors=ConnectorSet(), events=EventBus())
    dispatcher = WebhookDispatcher(services)
    handled: list[WebhookEvent] = []

    async def record(services: Services, event: WebhookEvent) -> None:
        handled.append(event)

    dispatcher.on(WebhookEvent, record)
    endpoint = ShopifyWebhooks(SECRET, resolve_sku={f"gid://shopify/InventoryItem/{ITEM}": SKU}.get)
    clock = Clock()
    webhooks = WebhookRoute(services, {"shopify": endpoint}, dispatcher, clock=clock)
    app = Starlette(routes=[Route("/webhooks/{vendor}", webhooks.handle, methods=["POST"])])
    async with serve(app) as url, aiohttp.ClientSession() as http:
        yield Route_(url, store, dispatcher, clock, handled, http, webhooks)


def inventory(available: int = 7, minute: int = 0) -> bytes:
    return json.dumps(
        {
            "inventory_item_id": ITEM,
            "location_id": LOCATION,
            "available": available,
            "updated_at": f"2026-09-03T08:{minute:02d}:10-04:00",
        }
    ).encode()


def assert_retry_later(status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
    assert status == 503, payload
    assert int(headers["Retry-After"]) > 0
    assert payload["ok"] is False
    assert payload["code"] in ("STORE_UNAVAILABLE", "UPSTREAM_UNAVAILABLE", "IN_PROGRESS")


# --- the store down -----------------------------------------------------------------------------


async def test_store_down_at_the_receipt_is_a_503_with_retry_after(route: Route_) -> None:
    route.store.down = {"receipts"}
    status, headers, payload = await route.post(inventory())
    assert_retry_later(status, headers, payload)
    assert payload["code"] == "STORE_UNAVAILABLE"
    assert route.handled == []

    route.store.down = set()
    status, _, payload = await route.post(inventory())
    assert (status, payload["applied"]) == (200, 1)


async def test_store_down_while_applying_releases_the_receipt(route: Route_) -> None:
    route.store.down = {"stock"}
    status, headers, payload = await route.post(inventory(available=3))
    assert_retry_later(status, headers, payload)
    assert payload["code"] == "STORE_UNAVAILABLE"
    assert await route.level() is None

    # The vendor's retry, as soon as the store is back, is applied: no receipt was left.
    route.store.down = set()
    status, _, payload = await route.post(inventory(available=3))
    assert (status, payload["applied"], payload["duplicates"]) == (200, 1, 0)
    level = await route.level()
    assert level is not None
    assert level.quantities["available"] == 3


async def test_store_down_for_the_release_too_loses_no_event(route: Route_) -> None:
    """The receipt cannot even be released: the claim is left behind, but only for its lease.
    A retry meanwhile is told to come back (never acknowledged as a duplicate); the first
    retry after the lease is applied."""
    route.store.down = {"stock", "release"}
    status, headers, payload = await route.post(inventory(available=4))
    assert_retry_later(status, headers, payload)

    route.store.down = set()
    status, headers, payload = await route.post(inventory(available=4))
    assert_retry_later(status, headers, payload)
    assert payload["code"] == "IN_PROGRESS"
    assert await route.level() is None

    route.clock.now += CLAIM_LEASE + timedelta(seconds=1)
    status, _, payload = await route.post(inventory(available=4))
    assert (status, payload["applied"]) == (200, 1)
    level = await route.level()
    assert level is not None
    assert level.quantities["available"] == 4


async def test_store_down_when_dead_lettering_is_a_503(route: Route_) -> None:
    route.store.down = {"dead_letters"}
    body = b'{"inventory_item_id": "not a number", "location_id": 1}'
    status, headers, payload = await route.post(body)
    assert_retry_later(status, headers, payload)

    route.store.down = set()
    status, _, payload = await route.post(body)
    assert (status, payload["deadLettered"]) == (200, True)
    assert await route.store.webhooks.count_dead_letters() == 1


async def test_an_upstream_outage_while_applying_is_a_503(route: Route_) -> None:
    async def refetch(services: Services, event: InventoryChanged) -> None:
        raise UpstreamUnavailable("shopify unavailable", source="shopify", operation="inventory")

    route.dispatcher.on(InventoryChanged, refetch)
    status, headers, payload = await route.post(inventory())
    assert_retry_later(status, headers, payload)
    assert payload["code"] == "UPSTREAM_UNAVAILABLE"
    assert await route.store.webhooks.count_dead_letters() == 0


# --- bodies that can never be applied -------------------------------------------------------------


async def test_a_handler_failing_on_a_well_formed_event_dead_letters_it(route: Route_) -> None:
    """Not an outage: the same body would fail the same way on every retry. It is kept for
    replay after the fix, acknowledged, and its event's receipt is released so the replay
    counts."""
    failing = True

    async def buggy(services: Services, event: InventoryChanged) -> None:
        if failing:
            raise KeyError("unexpected")

    route.dispatcher.on(InventoryChanged, buggy)
    body = inventory(available=9)
    status, _, payload = await route.post(body, event_id="evt-bug")
    assert status == 200
    assert (payload["ok"], payload["deadLettered"], payload["code"]) == (
        False,
        True,
        "DEAD_LETTERED",
    )
    (letter,) = await route.store.webhooks.dead_letters()
    assert letter.event_id == "evt-bug"
    assert letter.topic == "inventory_levels/update"
    assert "KeyError" in letter.reason
    assert letter.body == body

    # A redelivery of the same body is a duplicate of the dead letter, not a loop.
    status, _, payload = await route.post(body, event_id="evt-bug")
    assert (status, payload["ok"], payload["duplicates"]) == (200, True, 1)
    assert await route.store.webhooks.count_dead_letters() == 1

    # The event itself was not applied, so its id is free for the replay.
    claim = await route.store.webhooks.claim_receipt(
        Source("shopify"), "evt-bug", route.clock(), lease=CLAIM_LEASE
    )
    assert claim is ReceiptClaim.CLAIMED


# --- races ----------------------------------------------------------------------------------------


async def test_the_same_body_arriving_while_it_is_applied_is_told_to_retry(route: Route_) -> None:
    """A second delivery of the same bytes (here with another event id) while the first is
    still being applied is not acknowledged: the first may yet fail. Once the first is done,
    the retry is a duplicate. One effect in all."""
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(services: Services, event: InventoryChanged) -> None:
        started.set()
        await release.wait()

    route.dispatcher.on(InventoryChanged, slow)
    body = inventory()
    first = asyncio.create_task(route.post(body, event_id="evt-a"))
    await started.wait()
    status, headers, payload = await route.post(body, event_id="evt-b")
    assert_retry_later(status, headers, payload)
    assert payload["code"] == "IN_PROGRESS"
    release.set()
    status, _, payload = await first
    assert (status, payload["applied"]) == (200, 1)
    status, _, payload = await route.post(body, event_id="evt-b")
    assert (status, payload["applied"], payload["duplicates"]) == (200, 0, 1)
    assert len(route.handled) == 1


async def test_one_event_in_two_bodies_at_once_is_applied_once(route: Route_) -> None:
    """Shopify sends one event to each subscription (API versions differ, so do the bodies):
    the event id decides, and the second body's receipt is released so its retry counts."""
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(services: Services, event: InventoryChanged) -> None:
        started.set()
        await release.wait()

    route.dispatcher.on(InventoryChanged, slow)
    first = asyncio.create_task(route.post(inventory(available=5), event_id="evt-same"))
    await started.wait()
    status, headers, payload = await route.post(
        inventory(available=5, minute=1), event_id="evt-same"
    )
    assert_retry_later(status, headers, payload)
    release.set()
    assert (await first)[0] == 200
    status, _, payload = await route.post(inventory(available=5, minute=1), event_id="evt-same")
    assert (status, payload["applied"], payload["duplicates"]) == (200, 0, 1)
    assert len(route.handled) == 1


# --- replaying a dead letter ----------------------------------------------------------------------


async def test_a_dead_letter_replayed_after_the_fix_is_applied_and_forgotten(
    route: Route_,
) -> None:
    broken = True

    async def buggy(services: Services, event: InventoryChanged) -> None:
        if broken:
            raise TypeError("a bug")

    route.dispatcher.on(InventoryChanged, buggy)
    body = inventory(available=6)
    status, _, payload = await route.post(body, event_id="evt-replay")
    assert payload["deadLettered"] is True
    (letter,) = await route.store.webhooks.dead_letters()

    again = await route.webhooks.replay(letter)  # still broken: kept, reason refreshed
    assert again.dead_lettered
    (kept,) = await route.store.webhooks.dead_letters()
    assert kept.deliveries == 2

    broken = False
    outcome = await route.webhooks.replay(kept)
    assert (outcome.status, outcome.body["applied"]) == (200, 1)
    assert await route.store.webhooks.count_dead_letters() == 0
    level = await route.level()
    assert level is not None
    assert level.quantities["available"] == 6
    # The replayed body is settled: the vendor's copy is now a plain duplicate.
    status, _, payload = await route.post(body, event_id="evt-replay")
    assert (status, payload["duplicates"]) == (200, 1)


async def test_the_operator_lists_and_replays_dead_letters_oldest_first(route: Route_) -> None:
    """What ``omnigate webhooks dead-letters`` and ``omnigate webhooks replay`` do."""
    order: list[int] = []
    broken = True

    async def buggy(services: Services, event: InventoryChanged) -> None:
        if broken:
            raise ValueError("a bug")
        assert event.level is not None
        order.append(event.level.quantities["available"])

    route.dispatcher.on(InventoryChanged, buggy)
    for n in (1, 2, 3):
        route.clock.now += timedelta(seconds=1)
        await route.post(inventory(available=n, minute=n), event_id=f"evt-{n}")
    letters = await list_letters(route.store.webhooks)
    assert [d.event_id for d in letters] == ["evt-3", "evt-2", "evt-1"]
    line = describe(letters[0])
    assert "inventory_levels/update" in line
    assert "evt-3" in line
    assert "ValueError" in line
    assert "available" not in line  # no body

    broken = False
    first = letters[-1].body_digest
    (one,) = await replay_letters(route.webhooks, route.store.webhooks, digest=first[:12])
    assert one.applied
    assert order == [1]
    with pytest.raises(ValueError, match="give more"):
        await replay_letters(route.webhooks, route.store.webhooks, digest="")
    rest = await replay_letters(route.webhooks, route.store.webhooks)
    assert [r.applied for r in rest] == [True, True]
    assert order == [1, 2, 3]
    assert await route.store.webhooks.count_dead_letters() == 0
