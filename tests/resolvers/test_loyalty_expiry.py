"""Points lapse after the inactivity period, on both stores: one EXPIRE entry of the whole
balance with its reason, once per inactive period; a member who moved points meanwhile
keeps them; a sweep racing redemptions loses none of them; one replica sweeps at a time;
``expires_at`` says when, and nothing lapses with expiry turned off."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.registry import ConnectorSet
from gateway.loyalty_expiry import ExpirySweeper
from gateway.runtime import compose_services
from gateway.store.timeutil import utc_now
from resolvers.config import ResolverConfig
from resolvers.context import Services
from resolvers.loyalty import points
from resolvers.loyalty.expiry import LEASE, expire_once, expires_at, sweep
from resolvers.loyalty.notify import TOPIC
from resolvers.loyalty.program import LoyaltyProgram
from resolvers.model import LedgerKind, LoyaltyAccount, ProfileDoc
from resolvers.store import Store
from resolvers.viewer import Role, Viewer

INTERNAL = Viewer(role=Role.INTERNAL, name="ops")
DAYS = 30


def services_on(store: Store, expiry_days: int = DAYS) -> Services:
    config = ResolverConfig(loyalty=LoyaltyProgram(expiry_days=expiry_days))
    return compose_services(store, ConnectorSet([]), config=config)


async def member_with(services: Services, customer_id: str, balance: int) -> None:
    await services.store.profiles.put_profile(ProfileDoc(id=customer_id, body={}))
    await points.adjust(services, INTERNAL, customer_id, balance, "welcome")


def after_the_period() -> datetime:
    return utc_now() + timedelta(days=DAYS, seconds=1)


async def test_inactive_points_lapse_once_with_the_reason(store: Store) -> None:
    services = services_on(store)
    await member_with(services, "cus_a", 120)
    await member_with(services, "cus_b", 5)
    await points.redeem(services, INTERNAL, points.Redemption("cus_b", 5, "till-1"))
    async with services.events.subscribe(TOPIC) as heard:
        summary = await expire_once(services, after_the_period())
        assert heard.get_nowait() == "cus_a"  # the property sync hears of it
    assert (summary.due, summary.expired, summary.points) == (1, 1, 120)
    account = await store.ledger.get_account("cus_a")
    assert account is not None
    assert account.balance == 0
    (lapsed, *_) = await store.ledger.ledger_entries("cus_a")
    assert lapsed.kind is LedgerKind.EXPIRE
    assert lapsed.points == -120
    assert lapsed.reason is not None
    assert f"no points movement for {DAYS} days" in lapsed.reason
    assert lapsed.key.startswith("expire:cus_a:")
    again = await expire_once(services, after_the_period() + timedelta(days=400))
    assert again.expired == 0
    entries = await store.ledger.ledger_entries("cus_a")
    assert [e.kind for e in entries].count(LedgerKind.EXPIRE) == 1


async def test_nothing_lapses_inside_the_period_or_with_expiry_off(store: Store) -> None:
    services = services_on(store)
    await member_with(services, "cus_a", 50)
    inside = await expire_once(services, utc_now() + timedelta(days=DAYS - 1))
    assert inside.expired == 0
    never = await expire_once(services_on(store, expiry_days=0), after_the_period())
    assert never.expired == 0
    account = await store.ledger.get_account("cus_a")
    assert account is not None
    assert account.balance == 50


async def test_a_sweep_racing_redemptions_loses_no_redemption(store: Store) -> None:
    """Each redemption either lands before the expiry (the expiry then finds the account
    moved and leaves it) or is refused for want of points after it; never both an expiry
    and a redemption spending the same points, and the balance is the ledger's sum."""
    services = services_on(store)
    ids = [f"cus_{i}" for i in range(6)]
    for customer in ids:
        await member_with(services, customer, 100)
    await asyncio.sleep(0.002)
    # Due: what moved before this moment; a redemption of the race moves after it.
    quiet_since = utc_now()

    async def redeem(customer: str) -> str:
        try:
            await points.redeem(services, INTERNAL, points.Redemption(customer, 40, "till"))
        except points.InsufficientPoints:
            return "refused"
        return "redeemed"

    swept, *outcomes = await asyncio.gather(
        expire_once(services, quiet_since + timedelta(days=DAYS)), *(redeem(c) for c in ids)
    )
    # A redemption that landed before the sweep read the accounts made its account not due.
    assert swept.expired + swept.skipped == swept.due <= len(ids)
    for customer, outcome in zip(ids, outcomes, strict=True):
        entries = await store.ledger.ledger_entries(customer)
        account = await store.ledger.get_account(customer)
        assert account is not None
        assert account.balance == sum(e.points for e in entries)
        kinds = [e.kind for e in entries]
        if LedgerKind.EXPIRE in kinds:
            assert outcome == "refused"
            assert account.balance == 0
        else:
            assert outcome == "redeemed"
            assert account.balance == 60


async def test_one_replica_sweeps_at_a_time(store: Store) -> None:
    services = services_on(store)
    await member_with(services, "cus_a", 10)
    later = utc_now() + timedelta(days=DAYS + 1)
    assert await store.leases.take_lease(LEASE, "other", now=later, ttl=timedelta(minutes=1))
    busy = await sweep(services, holder="me", clock=lambda: later)
    assert busy.busy
    assert busy.expired == 0
    await store.leases.release_lease(LEASE, "other")
    done = await sweep(services, holder="me", clock=lambda: later)
    assert (done.busy, done.expired) == (False, 1)


async def test_the_sweeper_task_runs_a_triggered_pass() -> None:
    from gateway.store import MemoryStore

    store = MemoryStore()
    services = services_on(store)
    await member_with(services, "cus_a", 10)
    sweeper = ExpirySweeper(services, interval=0, clock=after_the_period)
    sweeper.start()
    try:
        finished = sweeper.next_pass()
        sweeper.trigger()
        summary = await finished
    finally:
        await sweeper.stop()
    assert summary is not None
    assert summary.expired == 1


@pytest.mark.parametrize(
    ("balance", "days", "expected"),
    [(10, 30, timedelta(days=30)), (0, 30, None), (10, 0, None)],
)
def test_expires_at(balance: int, days: int, expected: timedelta | None) -> None:
    moved = datetime(2025, 3, 1, tzinfo=UTC)
    account = replace(LoyaltyAccount(id="cus_a", balance=balance), updated_at=moved)
    when = expires_at(account, LoyaltyProgram(expiry_days=days))
    assert when == (None if expected is None else moved + expected)


async def test_the_sweeper_settles_pending_earns_past_their_window() -> None:
    from connectors.records import Channel, Money, OrderRecord, Source
    from gateway.store import MemoryStore
    from resolvers.loyalty import earning

    store = MemoryStore()
    program = LoyaltyProgram(return_window_days=14, expiry_days=0)
    services = compose_services(store, ConnectorSet([]), config=ResolverConfig(loyalty=program))
    now = utc_now()
    bought = OrderRecord(
        source=Source("shopify"),
        id="1",
        channel=Channel.ONLINE,
        created_at=now - timedelta(days=1),
        total=Money(Decimal("42"), "USD"),
    )
    await earning.accrue(services, "cus_a", [bought], now=now)
    account = await store.ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending) == (0, 42)
    sweeper = ExpirySweeper(services, interval=0, clock=lambda: now + timedelta(days=14))
    async with services.events.subscribe(TOPIC) as changed:
        await sweeper.run_once()
        assert changed.get_nowait() == "cus_a"  # the email tool's copy follows
    account = await store.ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending) == (42, 0)
