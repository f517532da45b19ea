"""Property test of the loyalty ledger: a random programme of earns, refunds, replayed and
stale webhooks, redemptions (with repeated idempotency keys) and reversals, run all at once
in a random interleaving against the memory store and SecantusDB. Whatever the order, at
the end:

- each account's balance is the sum of its settled entries, and pending the sum of the
  earns not settled yet;
- no balance is below zero (the programme does not allow negative balances) at the end,
  nor in any account a write returned on the way;
- each order earned once (one ``earn:<source>:order:<id>`` entry, and at most one
  settlement of it), and its clawbacks (taken plus shortfall) never exceed what it earned;
- each redemption key spent once, each reversal gave back exactly its redemption, once,
  and ``lifetime_redeemed`` is what the redemptions left after their reversals.

Earns and refunds go through :class:`RawEarner`, which writes the ledger entries an order
snapshot asks for directly (keyed as ``resolvers/loyalty/earning.py`` keys them).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.records import Channel, Money, OrderRecord, Source
from gateway.store import MemoryStore, MongoStore
from resolvers.config import ResolverConfig
from resolvers.errors import NotFound
from resolvers.loyalty import points
from resolvers.loyalty.program import EARN_RULE, LoyaltyProgram
from resolvers.model import BelowZero, LedgerEntry, LedgerKind, LoyaltyAccount, ProfileDoc
from resolvers.store import Store
from resolvers.store.ledger import settle_key
from resolvers.viewer import Role, Viewer
from tests.store.backends import fresh_database_name

INTERNAL = Viewer(role=Role.INTERNAL, name="property-test")
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
MEMBERS = ("cus_a", "cus_b", "cus_c")


# --- the programme ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    """One order and the snapshots its source reports over time: cumulative ``refunded``
    rising from 0 (the paid order) to at most the total."""

    member: str
    source: Source
    id: str
    total: int
    refunded: tuple[int, ...]

    def snapshot(self, step: int) -> OrderRecord:
        return OrderRecord(
            source=self.source,
            id=self.id,
            channel=Channel.ONLINE if self.source == Source("shopify") else Channel.IN_STORE,
            created_at=T0,
            total=Money.of(self.total, "USD"),
            customer_id=self.member,
            refunded=Money.of(self.refunded[step], "USD") if self.refunded[step] else None,
        )

    @property
    def earn_key(self) -> str:
        return f"earn:{self.source}:order:{self.id}"


@dataclass(frozen=True)
class Report:
    """A webhook or a sync page reporting ``order`` as of snapshot ``step``: the paid order,
    a refund, or a replay of a snapshot already reported, or an older one (stale)."""

    order: int
    step: int


@dataclass(frozen=True)
class Settle:
    """The return window of ``order`` has passed."""

    order: int


@dataclass(frozen=True)
class Redeem:
    member: str
    points: int
    key: str


@dataclass(frozen=True)
class Reverse:
    member: str
    key: str


Operation = Report | Settle | Redeem | Reverse


@dataclass(frozen=True)
class Programme:
    orders: tuple[Order, ...]
    operations: tuple[Operation, ...]
    pending: bool
    #: Seeds the interleaving: how many times each operation yields before it starts.
    seed: int


@st.composite
def orders(draw: st.DrawFn, n: int) -> Order:
    total = draw(st.integers(1, 300))
    steps = draw(st.lists(st.integers(0, total), max_size=3))
    refunded = (0, *sorted(steps))
    return Order(
        member=draw(st.sampled_from(MEMBERS)),
        source=draw(st.sampled_from([Source("shopify"), Source("square")])),
        id=f"o{n}",
        total=total,
        refunded=refunded,
    )


@st.composite
def programmes(draw: st.DrawFn) -> Programme:
    count = draw(st.integers(1, 5))
    made = tuple(draw(orders(n)) for n in range(count))
    keys = st.sampled_from(["k0", "k1", "k2", "k3"])  # few keys: retries happen
    members = st.sampled_from(MEMBERS)
    order_at = st.integers(0, count - 1)
    report = st.builds(Report, order_at, st.integers(0, 3))
    operation = st.one_of(
        report,
        report,  # earns and refunds, replayed and stale, are half of everything
        st.builds(Settle, order_at),
        st.builds(Redeem, members, st.integers(1, 120), keys),
        st.builds(Reverse, members, keys),
    )
    ops = draw(st.lists(operation, min_size=1, max_size=25))
    # Every order is reported at least once as paid, somewhere in the programme.
    ops += [Report(n, 0) for n in range(count)]
    ops = [
        Report(op.order, min(op.step, len(made[op.order].refunded) - 1))
        if isinstance(op, Report)
        else op
        for op in ops
    ]
    return Programme(
        orders=made,
        operations=tuple(draw(st.permutations(ops))),
        pending=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


# --- earning ----------------------------------------------------------------------------------


@dataclass
class RawEarner:
    """Writes the entries an order snapshot asks for, keyed so replays have no effect: the
    earn (or pending earn) of the paid amount at the programme's rate, and one clawback per
    refund step (the snapshot with ``refunded`` at step *i* clawing back step *i*'s share),
    which a stale snapshot repeats and so cannot take twice."""

    store: Store
    program: LoyaltyProgram
    pending: bool
    seen: list[LoyaltyAccount] = field(default_factory=list)

    def _rate(self) -> Decimal:
        return self.program.rate(self.program.tiers[0])

    def _entry(self, order: Order, key: str, kind: LedgerKind, pts: int) -> LedgerEntry:
        return LedgerEntry(
            key=key,
            account_id=order.member,
            points=pts,
            kind=kind,
            at=datetime.now(UTC),
            source=order.source,
            order_ref=order.id,
            rule=EARN_RULE,
            rate=str(self._rate()),
            settles=order.earn_key if key == settle_key(order.earn_key) else None,
        )

    async def _apply(self, entry: LedgerEntry) -> None:
        _, account = await self.store.ledger.apply_ledger_entry(entry, below_zero=BelowZero.CLAMP)
        self.seen.append(account)

    def earned(self, order: Order) -> int:
        return LoyaltyProgram.points(Decimal(order.total), self._rate())

    async def report(self, order: Order, step: int) -> None:
        kind = LedgerKind.PENDING_EARN if self.pending else LedgerKind.EARN
        await self._apply(self._entry(order, order.earn_key, kind, self.earned(order)))
        for n in range(1, step + 1):
            share = Decimal(order.refunded[n] - order.refunded[n - 1]) * self._rate()
            taken = LoyaltyProgram.points(share, Decimal(1))
            if taken:
                key = f"clawback:{order.source}:order:{order.id}:{n}"
                await self._apply(self._entry(order, key, LedgerKind.REFUND_CLAWBACK, -taken))

    async def settle(self, order: Order) -> None:
        if not self.pending:
            return
        settle = self._entry(order, settle_key(order.earn_key), LedgerKind.EARN, self.earned(order))
        _, account = await self.store.ledger.apply_ledger_entry(settle)
        self.seen.append(account)


# --- running it -------------------------------------------------------------------------------


@dataclass
class Services:
    store: Store
    config: ResolverConfig


@dataclass
class Outcomes:
    #: The entries the redemptions answered (a retry answers its first entry again).
    answered: list[LedgerEntry] = field(default_factory=list)


async def run(store: Store, programme: Programme) -> tuple[RawEarner, Outcomes]:
    program = LoyaltyProgram(return_window_days=14 if programme.pending else 0)
    services = Services(store, ResolverConfig(loyalty=program))
    for member in MEMBERS:
        await store.profiles.put_profile(ProfileDoc(id=member, body={"id": member}))
    earner = RawEarner(store, program, programme.pending)
    outcomes = Outcomes()
    shuffle = random.Random(programme.seed)

    async def one(op: Operation) -> None:
        for _ in range(shuffle.randrange(4)):
            await asyncio.sleep(0)
        match op:
            case Report(order, step):
                await earner.report(programme.orders[order], step)
            case Settle(order):
                await earner.settle(programme.orders[order])
            case Redeem(member, pts, key):
                request = points.Redemption(member, pts, key, channel="in_store")
                with contextlib.suppress(points.InsufficientPoints):  # not covered: no entry
                    outcomes.answered.append(await points.redeem(services, INTERNAL, request))
            case Reverse(member, key):
                with contextlib.suppress(NotFound):  # not redeemed (yet, or ever)
                    await points.reverse_redemption(services, INTERNAL, f"redeem:{member}:{key}")

    await asyncio.gather(*(one(op) for op in programme.operations))
    return earner, outcomes


async def check(store: Store, programme: Programme, earner: RawEarner, outcomes: Outcomes) -> None:
    assert all(a.balance >= 0 for a in earner.seen), "a write left a balance below zero"
    for answer in outcomes.answered:  # every answer is the one stored entry of its key
        assert await store.ledger.get_entry(answer.key) == answer
    for member in MEMBERS:
        entries = await store.ledger.ledger_entries(member, limit=10_000)
        account = await store.ledger.get_account(member) or LoyaltyAccount(id=member)
        keys = [e.key for e in entries]
        assert len(keys) == len(set(keys)), "a key was written twice"
        by_key = {e.key: e for e in entries}

        settled = [e for e in entries if e.kind is not LedgerKind.PENDING_EARN]
        pending = [e for e in entries if e.kind is LedgerKind.PENDING_EARN]
        settlements = [e for e in settled if e.kind is LedgerKind.EARN and e.settles]
        assert account.balance == sum(e.points for e in settled)
        assert account.pending == sum(e.points for e in pending) - sum(
            e.points for e in settlements
        )
        assert account.balance >= 0
        assert account.pending >= 0

        for order in (o for o in programme.orders if o.member == member):
            mine = [e for e in entries if e.order_ref == order.id and e.source == order.source]
            earns = [
                e
                for e in mine
                if e.kind in (LedgerKind.EARN, LedgerKind.PENDING_EARN) and not e.settles
            ]
            assert [e.key for e in earns] == [order.earn_key], "an order earns exactly once"
            settles = [e for e in mine if e.settles == order.earn_key]
            assert len(settles) <= 1
            assert all(s.points == earns[0].points for s in settles)
            claws = [e for e in mine if e.kind is LedgerKind.REFUND_CLAWBACK]
            assert sum(-e.points + e.shortfall for e in claws) <= earns[0].points

        redeems = [e for e in entries if e.kind is LedgerKind.REDEEM]
        reversals = [e for e in entries if e.kind is LedgerKind.REDEEM_REVERSAL]
        for reversal in reversals:
            assert reversal.settles is not None
            original = by_key[reversal.settles]
            assert reversal.points == -original.points
        assert len({r.settles for r in reversals}) == len(reversals), "a reversal ran twice"
        assert account.lifetime_redeemed == -sum(e.points for e in redeems) - sum(
            e.points for e in reversals
        )


# --- the tests --------------------------------------------------------------------------------

#: No deadline (SecantusDB is slow and uneven) and no example database (nothing written in
#: the checkout): each run draws new programmes.
PROPERTY = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@settings(PROPERTY, max_examples=150)
@given(programmes())
def test_any_interleaving_keeps_the_ledger_whole_in_memory(programme: Programme) -> None:
    async def example() -> None:
        store = MemoryStore()
        await check(store, programme, *await run(store, programme))

    asyncio.run(example())


@pytest.mark.mongo
def test_any_interleaving_keeps_the_ledger_whole_on_secantus(secantus_uri: str) -> None:
    @settings(PROPERTY, max_examples=25)
    @given(programmes())
    def on_secantus(programme: Programme) -> None:
        async def example() -> None:
            name = fresh_database_name()
            store = MongoStore(secantus_uri, name)
            try:
                await store.init()
                await check(store, programme, *await run(store, programme))
            finally:
                await store.database.client.drop_database(name)
                await store.close()

        asyncio.run(example())

    on_secantus()
