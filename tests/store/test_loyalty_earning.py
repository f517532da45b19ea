"""Earning from orders on every backend: one earn per order whatever reports it, the rate of
the tier held when ordering, settlement after the return window, pro-rata clawbacks at the
original rate (from pending or the balance, stopping at zero unless allowed), points paid on
a refunded order returned, merges and unmerges moving accounts with their ledger, and racing
writers that never take a step twice."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connectors.records import Channel, Money, OrderRecord, Source
from resolvers.events import EventBus
from resolvers.loyalty import earning
from resolvers.loyalty.program import LoyaltyProgram, Tier
from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LedgerResult
from resolvers.store import LedgerStore
from resolvers.store.ledger import totals

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SHOPIFY, SQUARE = Source("shopify"), Source("square")
PROGRAM = LoyaltyProgram(
    earn_rate=Decimal(1),
    tiers=(Tier("Member", Decimal(0)), Tier("Gold", Decimal(200), Decimal(2))),
)


@dataclass
class _Config:
    loyalty: LoyaltyProgram = PROGRAM


@dataclass
class _Store:
    ledger: LedgerStore


@dataclass
class Services:
    store: _Store
    config: _Config = field(default_factory=_Config)
    events: EventBus = field(default_factory=EventBus)


def services(ledger: LedgerStore, program: LoyaltyProgram = PROGRAM) -> Services:
    return Services(_Store(ledger), _Config(program))


def order(
    oid: str,
    total: str,
    *,
    source: Source = SHOPIFY,
    days_ago: int = 10,
    refunded: str | None = None,
    channel: Channel = Channel.ONLINE,
    cancelled: bool = False,
) -> OrderRecord:
    return OrderRecord(
        source=source,
        id=oid,
        channel=channel,
        created_at=NOW - timedelta(days=days_ago),
        total=Money(Decimal(total), "USD"),
        refunded=Money(Decimal(refunded), "USD") if refunded is not None else None,
        location_id="square:L1" if channel is Channel.IN_STORE else None,
        cancelled=cancelled,
    )


async def check_sums(ledger: LedgerStore, account_id: str) -> None:
    entries = await ledger.ledger_entries(account_id, limit=10_000)
    account = await ledger.get_account(account_id)
    assert account is not None
    expected = totals(account_id, entries)
    got = (account.balance, account.pending, account.lifetime_earned, account.lifetime_redeemed)
    want = (expected.balance, expected.pending, expected.lifetime_earned)
    assert got[:3] == want
    assert account.lifetime_redeemed == expected.lifetime_redeemed


async def test_an_order_earns_once_whatever_reports_it(ledger: LedgerStore) -> None:
    s = services(ledger)
    orders = [order("1", "80.50"), order("2", "20", source=SQUARE, channel=Channel.IN_STORE)]
    runs = await asyncio.gather(*(earning.accrue(s, "cus_a", orders, now=NOW) for _ in range(8)))
    assert sorted(e.key for run in runs for e in run) == [
        "earn:shopify:order:1",
        "earn:square:order:2",
    ]
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending, account.lifetime_earned) == (100, 0, 100)
    assert account.tier == "Member"
    earned = await ledger.get_entry("earn:shopify:order:1")
    assert earned is not None
    assert (earned.kind, earned.points, earned.rule, earned.rate) == (
        LedgerKind.EARN,
        80,
        "earn-per-unit",
        "1",
    )
    assert (earned.channel, earned.order_ref, earned.source) == ("online", "1", SHOPIFY)
    square = await ledger.get_entry("earn:square:order:2")
    assert square is not None
    assert (square.channel, square.location_id) == ("in_store", "square:L1")
    # Replayed later, and with a cancelled or unpaid order among them: nothing more.
    again = await earning.accrue(s, "cus_a", [*orders, order("3", "0")], now=NOW)
    assert again == []
    await check_sums(ledger, "cus_a")


async def test_the_tier_held_when_ordering_sets_the_rate(ledger: LedgerStore) -> None:
    s = services(ledger)
    # 250 spent 100 days ago reaches Gold (200); the next order earns at twice the rate.
    orders = [order("old", "250", days_ago=100), order("new", "10", days_ago=5)]
    await earning.accrue(s, "cus_a", orders, now=NOW)
    new = await ledger.get_entry("earn:shopify:order:new")
    old = await ledger.get_entry("earn:shopify:order:old")
    assert new is not None
    assert old is not None
    assert (old.points, old.rate, new.points, new.rate) == (250, "1", 20, "2")
    assert new.meta["tier_at_order"] == "Gold"
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert account.tier == "Gold"
    standing = earning.standing(PROGRAM, orders, NOW)
    assert (standing.tier.name, standing.next_tier, standing.spend) == ("Gold", None, 260)
    # 300 days on, the old order no longer qualifies; the new one (10) still does.
    later = earning.standing(PROGRAM, orders, NOW + timedelta(days=300))
    assert (later.tier.name, later.spend_to_next_tier) == ("Member", Decimal(190))


async def test_a_refund_claws_back_pro_rata_at_the_original_rate(ledger: LedgerStore) -> None:
    s = services(ledger)
    await earning.accrue(s, "cus_a", [order("1", "100")], now=NOW)
    # The programme's rules change; the clawback still uses the rate on the earn entry.
    richer = services(ledger, replace(PROGRAM, earn_rate=Decimal(5)))
    half = [order("1", "100", refunded="50")]
    runs = await asyncio.gather(*(earning.accrue(richer, "cus_a", half, now=NOW) for _ in range(6)))
    clawbacks = [e for run in runs for e in run if e.kind is LedgerKind.REFUND_CLAWBACK]
    assert [e.points for e in clawbacks] == [-50]
    # A stale snapshot (nothing refunded yet) takes nothing back and gives nothing back.
    assert await earning.accrue(richer, "cus_a", [order("1", "100")], now=NOW) == []
    rest = await earning.accrue(richer, "cus_a", [order("1", "100", refunded="100")], now=NOW)
    assert [(e.kind, e.points) for e in rest] == [(LedgerKind.REFUND_CLAWBACK, -50)]
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.lifetime_earned) == (0, 0)
    await check_sums(ledger, "cus_a")


async def test_a_clawback_stops_at_zero_and_records_the_shortfall(ledger: LedgerStore) -> None:
    s = services(ledger)
    await earning.accrue(s, "cus_a", [order("1", "100")], now=NOW)
    spend = LedgerEntry(
        key="redeem:cus_a:till-1", account_id="cus_a", points=-90, kind=LedgerKind.REDEEM, at=NOW
    )
    assert (await ledger.apply_ledger_entry(spend))[0] is LedgerResult.APPLIED
    await earning.accrue(s, "cus_a", [order("1", "100", cancelled=True)], now=NOW)
    claw = await ledger.get_entry("clawback:earn:shopify:order:1:cancelled")
    assert claw is not None
    assert (claw.points, claw.shortfall) == (-10, 90)
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert account.balance == 0
    # Nothing more is owed: the shortfall counts as taken.
    assert await earning.accrue(s, "cus_a", [order("1", "100", cancelled=True)], now=NOW) == []


async def test_a_negative_balance_when_the_programme_allows_it(ledger: LedgerStore) -> None:
    s = services(ledger, replace(PROGRAM, allow_negative=True))
    await earning.accrue(s, "cus_a", [order("1", "100")], now=NOW)
    spend = LedgerEntry(
        key="redeem:cus_a:till-1", account_id="cus_a", points=-90, kind=LedgerKind.REDEEM, at=NOW
    )
    await ledger.apply_ledger_entry(spend)
    await earning.accrue(s, "cus_a", [order("1", "100", refunded="100")], now=NOW)
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert account.balance == -90


async def test_pending_earns_settle_after_the_window(ledger: LedgerStore) -> None:
    s = services(ledger, replace(PROGRAM, return_window_days=30))
    orders = [order("1", "100", days_ago=10), order("2", "40", days_ago=40)]
    await earning.accrue(s, "cus_a", orders, now=NOW)
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending) == (40, 100)
    # A partial refund inside the window takes from pending, not the balance.
    await earning.accrue(s, "cus_a", [order("1", "100", days_ago=10, refunded="25")], now=NOW)
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending) == (40, 75)
    # Past the window the sweep settles what is left, once, however many sweeps race.
    later = NOW + timedelta(days=21)
    settled = await asyncio.gather(*(earning.settle_due(s, now=later) for _ in range(4)))
    assert sum(settled) == 1
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending, account.lifetime_earned) == (115, 0, 115)
    # A later refund of the settled order comes off the balance.
    await earning.accrue(s, "cus_a", [order("1", "100", days_ago=31, refunded="100")], now=later)
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert (account.balance, account.pending) == (40, 0)
    await check_sums(ledger, "cus_a")


async def test_points_paid_on_a_refunded_order_come_back(ledger: LedgerStore) -> None:
    s = services(ledger)
    await earning.accrue(s, "cus_a", [order("0", "100")], now=NOW)
    paid = LedgerEntry(
        key="redeem:cus_a:till-9",
        account_id="cus_a",
        points=-60,
        kind=LedgerKind.REDEEM,
        at=NOW,
        order_ref="SQ-1",
    )
    await ledger.apply_ledger_entry(paid)
    square = order("SQ-1", "40", source=SQUARE, channel=Channel.IN_STORE, refunded="20")
    await earning.accrue(s, "cus_a", [order("0", "100"), square], now=NOW)
    back = [e for e in await ledger.ledger_entries("cus_a") if e.kind is LedgerKind.REDEEM_REVERSAL]
    assert [(e.points, e.settles) for e in back] == [(30, "redeem:cus_a:till-9")]
    # Earned 100 + 40, spent 60, the refunded half of SQ-1 clawed 20 and paid back 30.
    account = await ledger.get_account("cus_a")
    assert account is not None
    assert account.balance == 100 + 40 - 60 - 20 + 30
    assert account.lifetime_redeemed == 30
    await check_sums(ledger, "cus_a")


async def test_a_chain_step_is_taken_once(ledger: LedgerStore) -> None:
    head = LedgerEntry(key="h", account_id="a", points=10, kind=LedgerKind.EARN, at=NOW)
    await ledger.apply_ledger_entry(head)
    steps = [
        LedgerEntry(
            key=f"step-{n}",
            account_id="a",
            points=-1,
            kind=LedgerKind.REFUND_CLAWBACK,
            at=NOW,
            follows="h",
        )
        for n in range(6)
    ]
    results = await asyncio.gather(
        *(ledger.apply_ledger_entry(e, below_zero=BelowZero.CLAMP) for e in steps)
    )
    outcomes = [r for r, _ in results]
    assert outcomes.count(LedgerResult.APPLIED) == 1
    assert outcomes.count(LedgerResult.SUPERSEDED) == 5
    following = await ledger.followers(["h", "nothing"])
    assert list(following) == ["h"]
    assert following["h"].key.startswith("step-")
    account = await ledger.get_account("a")
    assert account is not None
    assert account.balance == 9


async def test_moving_entries_recomputes_both_accounts(ledger: LedgerStore) -> None:
    s = services(ledger)
    await earning.accrue(s, "cus_a", [order("1", "30")], now=NOW)
    await earning.accrue(s, "cus_b", [order("2", "50")], now=NOW)
    before_a = await ledger.get_account("cus_a")
    before_b = await ledger.get_account("cus_b")
    entries_a = await ledger.ledger_entries("cus_a")
    assert await ledger.move_entries("cus_a", "cus_b") == 1
    merged = await ledger.get_account("cus_b")
    assert merged is not None
    assert merged.balance == 80
    assert await ledger.get_account("cus_a") is None
    # After the merge an order replayed for the survivor is still the one earn.
    assert await earning.accrue(s, "cus_b", [order("1", "30"), order("2", "50")], now=NOW) == []
    assert await ledger.move_entries("cus_b", "cus_a", origins=["cus_a"]) == 1
    assert await ledger.get_account("cus_a") == before_a
    assert await ledger.get_account("cus_b") == before_b
    assert await ledger.ledger_entries("cus_a") == entries_a


async def test_an_unpaid_order_earns_once_it_is_paid(ledger: LedgerStore) -> None:
    s = services(ledger)
    authorised = replace(order("1", "60"), paid=False)
    assert await earning.accrue(s, "cus_a", [authorised], now=NOW) == []
    assert earning.standing(PROGRAM, [authorised], NOW).spend == 0
    (earned,) = await earning.accrue(s, "cus_a", [replace(authorised, paid=True)], now=NOW)
    assert (earned.key, earned.points) == ("earn:shopify:order:1", 60)
