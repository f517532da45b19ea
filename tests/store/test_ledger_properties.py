"""Property test of loyalty points: a random programme of order reports (the paid order,
refunds, replayed and stale snapshots, inside and after the return window), redemptions
(with repeated idempotency keys, some paying for an order), reversals and settlement
sweeps, run all at once in a random interleaving against the memory store and SecantusDB,
through the real paths (``earning.accrue``, ``earning.settle_due``, ``points.redeem``,
``points.reverse_redemption``). Whatever the order:

- each account's balance is the sum of its settled entries, and pending the sum of the
  earns (less their clawbacks) not settled yet;
- no balance is below zero, at the end or in any account a write returned on the way,
  unless the programme allows negative balances;
- each order earned once (one ``earn:<source>:order:<id>`` entry, at most one settlement,
  which moves what its clawbacks left), and its clawbacks (taken plus shortfall) never
  exceed what it earned;
- each redemption key spent once, and its reversals never gave back more than it spent.

Then every order is reported once more, at its latest snapshot after the return window,
and a sweep runs: each order's clawbacks are exactly its refunded share of its earn
(stale snapshots took nothing more), nothing is pending, and a redemption paying for a
refunded order got exactly that share back (or all of it, if the sale was reversed).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.records import Channel, Money, OrderRecord, Source
from gateway.store import MemoryStore, MongoStore
from gateway.store.mongo.base import MongoTimeouts
from resolvers.config import ResolverConfig
from resolvers.errors import BadUserInput, NotFound
from resolvers.events import EventBus
from resolvers.loyalty import earning, points
from resolvers.loyalty.program import LoyaltyProgram
from resolvers.model import LedgerEntry, LedgerKind, LoyaltyAccount, ProfileDoc
from resolvers.store import Store
from resolvers.store.ledger import from_pending, settle_key
from resolvers.viewer import Role, Viewer
from tests.store.backends import fresh_database_name

INTERNAL = Viewer(role=Role.INTERNAL, name="property-test")
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
#: Inside every order's return window, and after it.
SOON, LATER = T0 + timedelta(hours=1), T0 + timedelta(days=30)
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
        refunded = self.refunded[step]
        return OrderRecord(
            source=self.source,
            id=self.id,
            channel=Channel.ONLINE if self.source == Source("shopify") else Channel.IN_STORE,
            created_at=T0,
            total=Money.of(self.total, "USD"),
            customer_id=self.member,
            refunded=Money.of(refunded, "USD") if refunded else None,
        )

    @property
    def earn_key(self) -> str:
        return f"earn:{self.source}:order:{self.id}"


@dataclass(frozen=True)
class Report:
    """A webhook, a sync page or a rebuild reporting the member's orders: ``order`` as of
    snapshot ``step`` (the paid order, a refund, or a replay of one already reported, or an
    older one: stale), the member's other orders as first paid (stale once refunded);
    ``late``: after the return window."""

    order: int
    step: int
    late: bool


@dataclass(frozen=True)
class Burst:
    """Every snapshot of ``order`` delivered at once (a vendor's retries and a sync page
    arriving together): the writers race for each step of the order's chain."""

    order: int


@dataclass(frozen=True)
class Sweep:
    """The settlement sweep, after the return window."""


@dataclass(frozen=True)
class Redeem:
    member: str
    points: int
    key: str
    #: Paying for this order of the member (a refund of it gives its share back).
    order: int | None


@dataclass(frozen=True)
class Reverse:
    member: str
    key: str


Operation = Report | Burst | Sweep | Redeem | Reverse


@dataclass(frozen=True)
class Programme:
    orders: tuple[Order, ...]
    operations: tuple[Operation, ...]
    #: Earns wait 14 days before they settle (else they settle at once).
    pending: bool
    allow_negative: bool
    #: Seeds the interleaving: how many times each operation yields before it starts.
    seed: int

    def of(self, member: str) -> list[Order]:
        return [o for o in self.orders if o.member == member]


@st.composite
def orders(draw: st.DrawFn, n: int) -> Order:
    total = draw(st.integers(1, 300))
    steps = draw(st.lists(st.integers(0, total), max_size=3))
    return Order(
        member=draw(st.sampled_from(MEMBERS)),
        source=draw(st.sampled_from([Source("shopify"), Source("square")])),
        id=f"o{n}",
        total=total,
        refunded=(0, *sorted(steps)),
    )


@st.composite
def programmes(draw: st.DrawFn) -> Programme:
    count = draw(st.integers(1, 5))
    made = tuple(draw(orders(n)) for n in range(count))
    keys = st.sampled_from(["k0", "k1", "k2", "k3"])  # few keys: retries happen
    order_at = st.integers(0, count - 1)
    report = st.builds(Report, order_at, st.integers(0, 3), st.booleans())
    operation = st.one_of(
        report,
        report,  # reports (paid, refunded, replayed, stale) are about half of everything
        st.builds(Burst, order_at),
        st.just(Sweep()),
        st.builds(Redeem, st.sampled_from(MEMBERS), st.integers(1, 150), keys, st.none()),
        st.builds(Redeem, st.sampled_from(MEMBERS), st.integers(1, 150), keys, order_at),
        st.builds(Reverse, st.sampled_from(MEMBERS), keys),
    )
    ops: list[Operation] = []
    for op in draw(st.lists(operation, min_size=1, max_size=25)):
        if isinstance(op, Report):  # a step the order has
            op = Report(op.order, min(op.step, len(made[op.order].refunded) - 1), op.late)
        if isinstance(op, Redeem) and op.order is not None:  # for the member's own order
            op = Redeem(made[op.order].member, op.points, op.key, op.order)
        ops.append(op)
    # Every order is reported paid at least once, somewhere in the programme.
    ops += [Report(n, 0, draw(st.booleans())) for n in range(count)]
    return Programme(
        orders=made,
        operations=tuple(draw(st.permutations(ops))),
        pending=draw(st.booleans()),
        allow_negative=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


# --- running it -------------------------------------------------------------------------------


class Recording:
    """The store's ledger as the paths see it: every call first yields to the event loop a
    random number of times (as a network round trip would; the memory store never yields
    by itself, so without this each operation would run whole between two others), and
    every account a write returned is kept, to see a balance below zero on the way, not
    only at the end."""

    def __init__(self, ledger: Any, shuffle: random.Random) -> None:
        self._ledger = ledger
        self._shuffle = shuffle
        self.seen: list[LoyaltyAccount] = []

    async def _latency(self) -> None:
        for _ in range(self._shuffle.randrange(3)):
            await asyncio.sleep(0)

    async def apply_ledger_entry(self, entry: LedgerEntry, **options: Any) -> Any:
        await self._latency()
        result, account = await self._ledger.apply_ledger_entry(entry, **options)
        self.seen.append(account)
        await self._latency()
        return result, account

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._ledger, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            await self._latency()
            return await method(*args, **kwargs)

        return call


@dataclass
class Services:
    store: Store
    config: ResolverConfig
    #: Where loyalty announces account changes (nobody listens here).
    events: EventBus = field(default_factory=EventBus)


@dataclass
class Outcomes:
    #: The entries the redemptions answered (a retry answers its first entry again).
    answered: list[LedgerEntry] = field(default_factory=list)
    #: The highest refund step of each order that was reported.
    reported: dict[int, int] = field(default_factory=dict)


def services_for(store: Store, programme: Programme) -> Services:
    program = LoyaltyProgram(
        return_window_days=14 if programme.pending else 0,
        allow_negative=programme.allow_negative,
    )
    return Services(store, ResolverConfig(loyalty=program))


async def report(services: Services, programme: Programme, op: Report) -> None:
    order = programme.orders[op.order]
    others = [o.snapshot(0) for o in programme.of(order.member) if o is not order]
    now = LATER if op.late else SOON
    await earning.accrue(services, order.member, [*others, order.snapshot(op.step)], now=now)


async def run(store: Store, programme: Programme) -> Outcomes:
    services = services_for(store, programme)
    for member in MEMBERS:
        await store.profiles.put_profile(ProfileDoc(id=member, body={"id": member}))
    outcomes = Outcomes()
    shuffle = random.Random(programme.seed)

    async def one(op: Operation) -> None:
        for _ in range(shuffle.randrange(4)):
            await asyncio.sleep(0)
        match op:
            case Report(order, step):
                await report(services, programme, op)
                outcomes.reported[order] = max(step, outcomes.reported.get(order, 0))
            case Burst(order):
                steps = range(len(programme.orders[order].refunded))
                await asyncio.gather(
                    *(report(services, programme, Report(order, n, n % 2 == 1)) for n in steps)
                )
                outcomes.reported[order] = max(steps[-1], outcomes.reported.get(order, 0))
            case Sweep():
                await earning.settle_due(services, now=LATER)
            case Redeem(member, pts, key, order):
                ref = None if order is None else programme.orders[order].id
                request = points.Redemption(member, pts, key, channel="in_store", order_ref=ref)
                with contextlib.suppress(points.InsufficientPoints):  # not covered: no entry
                    outcomes.answered.append(await points.redeem(services, INTERNAL, request))
            case Reverse(member, key):
                # Not redeemed (yet, or ever), or a refund already gave it all back.
                with contextlib.suppress(NotFound, BadUserInput):
                    await points.reverse_redemption(services, INTERNAL, f"redeem:{member}:{key}")

    await asyncio.gather(*(one(op) for op in programme.operations))
    return outcomes


async def settle_everything(store: Store, programme: Programme, outcomes: Outcomes) -> None:
    """What the dust settles to: every order reported at its latest snapshot after the
    return window, then a sweep."""
    services = services_for(store, programme)
    for n, step in outcomes.reported.items():
        await report(services, programme, Report(n, step, late=True))
    await earning.settle_due(services, now=LATER)


def share(points: int, part: int, whole: int) -> int:
    """``points * part / whole`` rounded down, exactly."""
    return points * part // whole


async def check(
    store: Store, programme: Programme, outcomes: Outcomes, *, settled: bool = False
) -> None:
    """The invariants; with ``settled``, also what the ledger converges to."""
    for answer in outcomes.answered:  # every answer is the one stored entry of its key
        stored = await store.ledger.get_entry(answer.key)
        assert stored is not None
        assert (stored.kind, stored.points, stored.account_id) == (
            answer.kind,
            answer.points,
            answer.account_id,
        )
    for member in MEMBERS:
        entries = await store.ledger.ledger_entries(member, limit=10_000)
        account = await store.ledger.get_account(member) or LoyaltyAccount(id=member)
        keys = [e.key for e in entries]
        assert len(keys) == len(set(keys)), "a key was written twice"
        by_key = {e.key: e for e in entries}

        held_back = [e for e in entries if from_pending(e)]
        balance_moves = [e for e in entries if not from_pending(e)]
        settlements = [e for e in entries if e.kind is LedgerKind.EARN and e.settles]
        assert account.balance == sum(e.points for e in balance_moves)
        assert account.pending == sum(e.points for e in held_back) - sum(
            e.points for e in settlements
        )
        assert account.pending >= 0
        if not programme.allow_negative:
            assert account.balance >= 0

        for n, order in enumerate(programme.orders):
            if order.member != member:
                continue
            mine = [e for e in entries if e.order_ref == order.id and e.source == order.source]
            earns = [
                e
                for e in mine
                if e.kind in (LedgerKind.EARN, LedgerKind.PENDING_EARN) and not e.settles
            ]
            assert [e.key for e in earns] == [order.earn_key], "an order earns exactly once"
            (earn,) = earns
            settles = [e for e in mine if e.key == settle_key(order.earn_key)]
            assert len(settles) <= 1
            claws = [e for e in mine if e.kind is LedgerKind.REFUND_CLAWBACK]
            clawed = sum(-e.points + e.shortfall for e in claws)
            assert clawed <= earn.points, "clawbacks took more than the order earned"
            from_window = sum(-e.points for e in claws if e.settles == earn.key)
            if settles:  # the settlement moved what the window's clawbacks left
                assert settles[0].points + from_window == earn.points
            if settled:
                refunded = order.refunded[outcomes.reported[n]]
                assert clawed == share(earn.points, refunded, order.total)
                assert earn.kind is LedgerKind.EARN or settles or from_window == earn.points

        redeems = [e for e in entries if e.kind is LedgerKind.REDEEM]
        reversals = [e for e in entries if e.kind is LedgerKind.REDEEM_REVERSAL]
        for redeem in redeems:
            back = [e for e in reversals if e.settles == redeem.key]
            returned = sum(e.points for e in back)
            assert returned <= -redeem.points, "a redemption got back more than it spent"
            paid_for = next((o for o in programme.of(member) if o.id == redeem.order_ref), None)
            if settled and paid_for is not None:
                reversed_at_till = f"reverse:{redeem.key}" in by_key
                n = programme.orders.index(paid_for)
                refunded = paid_for.refunded[outcomes.reported[n]]
                if reversed_at_till:
                    assert returned == -redeem.points
                else:
                    assert returned == share(-redeem.points, refunded, paid_for.total)
        assert account.lifetime_redeemed == -sum(e.points for e in redeems) - sum(
            e.points for e in reversals
        )
    if settled:
        for member in MEMBERS:
            account = await store.ledger.get_account(member) or LoyaltyAccount(id=member)
            assert account.pending == 0, "everything has settled after the window"


async def prove(store: Store, programme: Programme) -> None:
    recording = Recording(store.ledger, random.Random(programme.seed + 1))
    store.ledger = recording  # type: ignore[misc]
    outcomes = await run(store, programme)
    if not programme.allow_negative:
        assert all(a.balance >= 0 for a in recording.seen), "a write left a balance below 0"
    await check(store, programme, outcomes)
    await settle_everything(store, programme, outcomes)
    await check(store, programme, outcomes, settled=True)


# --- the tests --------------------------------------------------------------------------------

#: No deadline (SecantusDB is slow and uneven) and no example database (nothing written in
#: the checkout): each run draws new programmes.
PROPERTY = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@settings(PROPERTY, max_examples=300)
@given(programmes())
def test_any_interleaving_keeps_the_ledger_whole_in_memory(programme: Programme) -> None:
    asyncio.run(prove(MemoryStore(), programme))


PATIENT = MongoTimeouts(server_selection=10.0, connect=10.0, operation=30.0)


@pytest.mark.mongo
def test_any_interleaving_keeps_the_ledger_whole_on_secantus(secantus_uri: str) -> None:
    @settings(PROPERTY, max_examples=40)
    @given(programmes())
    def on_secantus(programme: Programme) -> None:
        async def example() -> None:
            name = fresh_database_name()
            # The test server shares two cores with the whole suite: its calls get the time a
            # loaded machine needs (what is proven here is the ledger, not the latency).
            store = MongoStore(secantus_uri, name, timeouts=PATIENT)
            try:
                await store.init()
                await prove(store, programme)
            finally:
                await store.database.client.drop_database(name)
                await store.close()

        asyncio.run(example())

    on_secantus()


def test_a_refund_claws_back_its_exact_share() -> None:
    """A customer refunded 1 of 28 gives back 1 of the 28 points the order earned (a
    28-digit quotient, 28 * (1/28), once made it 0: found by the property test)."""
    order = Order("cus_a", Source("shopify"), "o1", 28, (0, 1))
    programme = Programme((order,), (), pending=False, allow_negative=False, seed=0)

    async def example() -> list[LedgerEntry]:
        store = MemoryStore()
        await earning.accrue(services_for(store, programme), "cus_a", [order.snapshot(1)])
        return await store.ledger.ledger_entries("cus_a")

    entries = asyncio.run(example())
    assert sorted((e.kind, e.points) for e in entries) == [
        (LedgerKind.EARN, 28),
        (LedgerKind.REFUND_CLAWBACK, -1),
    ]
