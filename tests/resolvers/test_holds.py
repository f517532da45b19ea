"""Pickup holds at the service level, on every store backend (memory, SecantusDB): the
oversell race, units given back exactly once, settlement, idempotency, every error code."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from connectors.records import LocationRecord
from resolvers.errors import OmnigateError
from resolvers.model import HoldStatus
from resolvers.stock import holds
from resolvers.stock.changes import STOCK_TOPIC
from resolvers.stock.holds import HoldRequest
from resolvers.stock.settlement import settle_reflected, sweep
from resolvers.store import CatalogEntry, Store
from tests.resolvers.holds_world import (
    INTERNAL,
    SHOPIFY_STORE,
    SKU,
    SQUARE_STORE,
    STOREFRONT,
    T0,
    WAREHOUSE,
    customer,
    drain,
    hold_services,
    later,
    seed,
    sellable,
    staff,
)

HOUR = timedelta(hours=1)


async def code_of(awaitable: object) -> str:
    with pytest.raises(OmnigateError) as raised:
        await awaitable  # type: ignore[misc]
    return raised.value.code


def ask(quantity: int = 1, **kw: object) -> HoldRequest:
    fields: dict[str, object] = {"sku": SKU, "location_id": SHOPIFY_STORE, "quantity": quantity}
    fields.update(kw)
    return HoldRequest(**fields)  # type: ignore[arg-type]


async def test_a_hold_at_a_square_store_is_checked_at_that_store(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 1, location_id=SQUARE_STORE, source="square")
    await seed(services, 50)  # plenty online: irrelevant to the Square store's last unit

    first = await holds.create(services, customer("cust-1"), ask(location_id=SQUARE_STORE), now=T0)
    assert first.customer_id == "cust-1"
    assert first.location_id == SQUARE_STORE
    second = holds.create(services, customer("cust-2"), ask(location_id=SQUARE_STORE), now=T0)
    assert await code_of(second) == "INSUFFICIENT_STOCK"
    assert await sellable(store, location_id=SQUARE_STORE) == 0
    assert await sellable(store) == 50


@pytest.mark.parametrize("ending", ["release", "expire", "settle", "settle_on_timeout"])
async def test_a_finished_hold_restores_sellable_exactly(store: Store, ending: str) -> None:
    services = hold_services(store)
    await seed(services, 7)
    other = await holds.create(services, INTERNAL, ask(2), now=T0)
    before = await sellable(store)
    hold = await holds.create(services, INTERNAL, ask(3), now=T0)
    assert await sellable(store) == before - 3

    if ending == "release":
        await holds.release(services, INTERNAL, hold.id, now=later(1))
        assert await sellable(store) == before
    elif ending == "expire":
        summary = await sweep(services, later(31), settle_timeout=HOUR)
        assert summary.expired == 2  # both ttl ran out (default 30 minutes)
        assert await sellable(store) == before + 2
        expired = await holds.get(services, INTERNAL, other.id, now=later(31))
        assert expired.status is HoldStatus.EXPIRED
    elif ending == "settle":
        await holds.complete(services, INTERNAL, hold.id, now=later(1))
        assert await sellable(store) == before - 3  # picked up: still held
        await seed(services, 4, at=later(2))  # the POS now counts the sale: 7 - 3
        # 4 available, 2 held by the other hold, 0 by the settled one
        assert await sellable(store) == before - 3
        settled = await holds.get(services, INTERNAL, hold.id, now=later(2))
        assert settled.status is HoldStatus.SETTLED
    else:
        await holds.complete(services, INTERNAL, hold.id, now=later(1))
        assert (await sweep(services, later(20), settle_timeout=HOUR)).settled == 0
        assert (await sweep(services, later(62), settle_timeout=HOUR)).settled == 1
        # The count never showed the sale: released from held after the timeout.
        assert await sellable(store) == 7 - 0  # the other hold expired in that sweep too
    final = await holds.get(services, INTERNAL, hold.id, now=later(3))
    assert final.status is not HoldStatus.ACTIVE
    [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
    unfinished = 0
    for made in (other, hold):
        stored = await store.inventory.get_hold(made.id)
        assert stored is not None
        if stored.status in {HoldStatus.ACTIVE, HoldStatus.COMPLETED}:
            unfinished += made.quantity
    assert level.held == unfinished


async def test_settlement_waits_for_the_whole_sale_oldest_first(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 10)
    a = await holds.create(services, INTERNAL, ask(2), now=T0)
    b = await holds.create(services, INTERNAL, ask(3), now=T0)
    await holds.complete(services, INTERNAL, a.id, now=later(1))
    await holds.complete(services, INTERNAL, b.id, now=later(1.5))

    async with services.events.subscribe(STOCK_TOPIC) as changes:
        await seed(services, 8, at=later(2))  # a's 2 units rung up, b's not yet
        assert (await store.inventory.get_hold(a.id)).status is HoldStatus.SETTLED
        assert (await store.inventory.get_hold(b.id)).status is HoldStatus.COMPLETED
        assert await sellable(store) == 8 - 3
        await seed(services, 5, at=later(3))  # b's 3 units too
        assert (await store.inventory.get_hold(b.id)).status is HoldStatus.SETTLED
        assert await sellable(store) == 5
        causes = [change.cause for change in drain(changes)]
    assert causes == ["webhook", "settlement", "webhook", "settlement"]


async def test_settling_twice_gives_units_back_once(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 10)
    hold = await holds.create(services, INTERNAL, ask(4), now=T0)
    await holds.complete(services, INTERNAL, hold.id, now=later(1))
    await seed(services, 6, at=later(2))
    [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
    # A second settlement pass over the same level (another replica) settles nothing.
    assert await settle_reflected(services, level) == 0
    assert (await sweep(services, later(120), settle_timeout=HOUR)).settled == 0
    assert await sellable(store) == 6


async def test_an_idempotency_key_replay_returns_the_same_hold(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 5)
    request = ask(2, idempotency_key="cart-77", customer_id="cust-1")
    viewer = customer("cust-1")
    results = await asyncio.gather(
        *(holds.create(services, viewer, request, now=T0) for _ in range(20))
    )
    assert len({h.id for h in results}) == 1
    assert await sellable(store) == 3
    again = await holds.create(services, viewer, request, now=later(5))
    assert again.id == results[0].id
    assert again.status is HoldStatus.ACTIVE
    late = await holds.create(services, viewer, request, now=later(31))  # past its ttl
    assert late.id == results[0].id
    assert late.status is HoldStatus.EXPIRED
    assert await sellable(store) == 5
    # The same key for another request is refused, not answered with the first hold.
    other = holds.create(services, viewer, ask(1, idempotency_key="cart-77"), now=T0)
    assert await code_of(other) == "BAD_USER_INPUT"
    assert await sellable(store) == 5


async def test_complete_release_and_expiry_race_moves_units_once(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 100)
    made = []
    for _ in range(8):
        hold = await holds.create(services, INTERNAL, ask(5), now=T0)
        made.append(hold.id)

        async def attempt(action: str, hold_id: str = hold.id) -> str:
            try:
                if action == "complete":
                    await holds.complete(services, INTERNAL, hold_id, now=later(29))
                elif action == "release":
                    await holds.release(services, INTERNAL, hold_id, now=later(29))
                else:
                    await sweep(services, later(31), settle_timeout=HOUR)
            except OmnigateError as exc:
                return exc.code
            return "OK"

        outcomes = await asyncio.gather(*(attempt(a) for a in ["complete", "release", "sweep"] * 4))
        assert set(outcomes) <= {"OK", "HOLD_NOT_ACTIVE", "HOLD_EXPIRED"}
    finals = [await store.inventory.get_hold(hold_id) for hold_id in made]
    statuses = {h.status for h in finals if h is not None}
    assert statuses <= {HoldStatus.COMPLETED, HoldStatus.RELEASED, HoldStatus.EXPIRED}
    still_held = sum(h.quantity for h in finals if h and h.status is HoldStatus.COMPLETED)
    [level] = await store.inventory.get_stock([SKU], [SHOPIFY_STORE])
    assert level.held == still_held
    assert level.sellable_for_pickup == 100 - still_held


async def test_an_expired_unswept_hold_is_expired_on_the_spot(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 3)
    hold = await holds.create(services, INTERNAL, ask(3, ttl_minutes=10), now=T0)
    assert await code_of(holds.complete(services, INTERNAL, hold.id, now=later(11))) == (
        "HOLD_EXPIRED"
    )
    assert (await store.inventory.get_hold(hold.id)).status is HoldStatus.EXPIRED
    assert await sellable(store) == 3
    assert await code_of(holds.release(services, INTERNAL, hold.id, now=later(12))) == (
        "HOLD_EXPIRED"
    )
    assert await sellable(store) == 3


async def test_error_codes(store: Store) -> None:
    services = hold_services(store, hold_max_quantity=5)
    await seed(services, 3)
    await seed(services, 3, location_id=WAREHOUSE)
    create = holds.create
    cases = {
        "BAD_USER_INPUT:quantity0": create(services, INTERNAL, ask(0), now=T0),
        "BAD_USER_INPUT:quantity-1": create(services, INTERNAL, ask(-1), now=T0),
        "BAD_USER_INPUT:over-max": create(services, INTERNAL, ask(6), now=T0),
        "BAD_USER_INPUT:ttl-short": create(services, INTERNAL, ask(ttl_minutes=1), now=T0),
        "BAD_USER_INPUT:ttl-long": create(services, INTERNAL, ask(ttl_minutes=99999), now=T0),
        "UNKNOWN_LOCATION": create(services, INTERNAL, ask(location_id="shopify:nope"), now=T0),
        "PICKUP_NOT_ENABLED": create(services, INTERNAL, ask(location_id=WAREHOUSE), now=T0),
        "UNKNOWN_SKU": create(services, INTERNAL, ask(sku="NO-SUCH-SKU"), now=T0),
        "INSUFFICIENT_STOCK": create(services, INTERNAL, ask(4), now=T0),
        "HOLD_NOT_FOUND:get": holds.get(services, INTERNAL, "hold_missing"),
        "HOLD_NOT_FOUND:release": holds.release(services, INTERNAL, "hold_missing"),
        "HOLD_NOT_FOUND:complete": holds.complete(services, INTERNAL, "hold_missing"),
        "FORBIDDEN:other-customer": create(
            services, customer("cust-1"), ask(customer_id="cust-2"), now=T0
        ),
        "FORBIDDEN:anonymous-for-customer": create(
            services, STOREFRONT, ask(customer_id="cust-2"), now=T0
        ),
        "FORBIDDEN:staff-elsewhere": create(services, staff(SQUARE_STORE), ask(), now=T0),
    }
    for name, call in cases.items():
        assert await code_of(call) == name.split(":")[0], name
    assert await sellable(store) == 3  # nothing was held by any refused request


async def test_who_may_read_release_and_complete(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 10)
    mine = await holds.create(services, customer("cust-1"), ask(), now=T0)
    anonymous = await holds.create(services, STOREFRONT, ask(), now=T0)
    assert mine.customer_id == "cust-1"
    assert anonymous.customer_id is None

    assert (await holds.get(services, customer("cust-1"), mine.id, now=T0)).id == mine.id
    assert await code_of(holds.get(services, customer("cust-2"), mine.id, now=T0)) == "FORBIDDEN"
    assert await code_of(holds.get(services, STOREFRONT, mine.id, now=T0)) == "FORBIDDEN"
    assert (await holds.get(services, customer("cust-2"), anonymous.id, now=T0)).id == anonymous.id
    assert await code_of(holds.complete(services, customer("cust-1"), mine.id)) == "FORBIDDEN"
    elsewhere = staff(SQUARE_STORE)
    assert await code_of(holds.complete(services, elsewhere, mine.id, now=T0)) == "FORBIDDEN"
    assert await code_of(holds.release(services, elsewhere, mine.id, now=T0)) == "FORBIDDEN"

    done = await holds.complete(services, staff(SHOPIFY_STORE), mine.id, now=later(1))
    assert done.status is HoldStatus.COMPLETED
    assert done.completed_at == later(1)
    assert (await holds.complete(services, staff("*"), mine.id, now=later(2))).id == mine.id
    # Picked up: no longer releasable (the units stay held until settlement).
    assert await code_of(holds.release(services, customer("cust-1"), mine.id, now=later(2))) == (
        "HOLD_NOT_ACTIVE"
    )
    released = await holds.release(services, STOREFRONT, anonymous.id, now=later(2))
    assert released.status is HoldStatus.RELEASED
    again = await holds.release(services, STOREFRONT, anonymous.id, now=later(3))
    assert again.status is HoldStatus.RELEASED
    assert await sellable(store) == 9
    assert [h.id for h in await holds.for_customer(services, "cust-1", now=later(3))] == [mine.id]


async def test_every_move_of_units_is_announced_once_with_its_cause(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 5)
    async with services.events.subscribe(STOCK_TOPIC) as changes:
        first = await holds.create(services, INTERNAL, ask(2, idempotency_key="k1"), now=T0)
        await holds.create(services, INTERNAL, ask(2, idempotency_key="k1"), now=T0)  # replay
        await holds.release(services, INTERNAL, first.id, now=later(1))
        await holds.release(services, INTERNAL, first.id, now=later(2))  # already released
        second = await holds.create(services, INTERNAL, ask(1), now=T0)
        await sweep(services, later(31), settle_timeout=HOUR)
        await sweep(services, later(32), settle_timeout=HOUR)  # nothing left to expire
        seen = [(change.cause, change.level.held) for change in drain(changes)]
    assert seen == [("hold", 2), ("release", 0), ("hold", 1), ("expiry", 0)]
    assert (await store.inventory.get_hold(second.id)).status is HoldStatus.EXPIRED


async def test_reading_a_hold_past_its_expiry_expires_it(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 4)
    mine = await holds.create(services, customer("cust-1"), ask(3, ttl_minutes=10), now=T0)
    assert (await holds.get(services, INTERNAL, mine.id, now=later(9))).status is (
        HoldStatus.ACTIVE
    )
    assert await sellable(store) == 1
    [listed] = await holds.for_customer(services, "cust-1", now=later(11))
    assert listed.status is HoldStatus.EXPIRED
    assert await sellable(store) == 4
    assert (await holds.get(services, INTERNAL, mine.id, now=later(12))).status is (
        HoldStatus.EXPIRED
    )
    assert await sellable(store) == 4


async def test_a_catalog_sku_without_stock_is_insufficient_not_unknown(store: Store) -> None:
    services = hold_services(store)
    await seed(services, 3)
    await store.catalog.put_entries([CatalogEntry("NEW-SKU", "New tee", T0)])
    new = holds.create(services, INTERNAL, ask(sku="NEW-SKU"), now=T0)
    assert await code_of(new) == "INSUFFICIENT_STOCK"
    unknown = holds.create(services, INTERNAL, ask(sku="NOT-IN-CATALOG"), now=T0)
    assert await code_of(unknown) == "UNKNOWN_SKU"


async def test_a_store_of_a_vendor_that_is_down_is_an_outage_not_unknown(store: Store) -> None:
    """While Square's location list cannot be read, a hold at a Square store answers
    UPSTREAM_UNAVAILABLE (try again), not UNKNOWN_LOCATION; Shopify's stores still hold."""
    from connectors.errors import UpstreamUnavailable

    services = hold_services(store)
    square = list(services.connectors)[1]

    async def down() -> list[LocationRecord]:
        raise UpstreamUnavailable("down", source=square.source, operation="locations.list")

    square.list_locations = down  # type: ignore[method-assign]
    await seed(services, 3)
    await seed(services, 3, location_id=SQUARE_STORE, source="square")
    at_square = holds.create(services, INTERNAL, ask(location_id=SQUARE_STORE), now=T0)
    assert await code_of(at_square) == "UPSTREAM_UNAVAILABLE"
    assert (
        await code_of(holds.create(services, INTERNAL, ask(location_id="shopify:nope"), now=T0))
        == "UPSTREAM_UNAVAILABLE"
    )  # it may be Square's: nobody can say it is unknown
    placed = await holds.create(services, INTERNAL, ask(), now=T0)
    assert placed.location_id == SHOPIFY_STORE
