"""Referrals on every store backend: a new customer's first paid order carrying a friend's
referral code pays both sides once, however often or concurrently it is replayed, and a code
entered at the till does the same for a customer buying in store; self-referrals, later
orders, ordinary discount codes and old customers earn nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connectors.records import Channel, Money, OrderRecord, Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from resolvers.context import RequestContext, ResolverConfig, Services
from resolvers.customers.member_codes import record_referral
from resolvers.customers.sync import sync_customers
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from resolvers.loyalty import codes
from resolvers.loyalty.program import LoyaltyProgram
from resolvers.loyalty.referrals import (
    ReferralAtTill,
    referee_key,
    referrer_key,
    reward_referral,
)
from resolvers.model import LedgerKind
from resolvers.store import Store
from resolvers.viewer import Role, Viewer
from tests.resolvers.fakes import FakeCommerce, FakeMarketing
from tests.resolvers.world import T0, profile_of

BONUS = 300
STORE = "square:downtown"
TILL = Viewer(Role.STAFF, frozenset({STORE}), name="till-1")


@pytest.fixture
def services(store: Store, world: dict[str, FakeCommerce | FakeMarketing]) -> Services:
    return compose_services(
        store=store,
        connectors=ConnectorSet(world.values()),  # type: ignore[arg-type]
        events=EventBus(),
        config=ResolverConfig(profile_ttl_seconds=60, loyalty=LoyaltyProgram(referral_bonus=BONUS)),
    )


@pytest.fixture
async def people(services: Services) -> dict[str, str]:
    """Jane (the referrer, who has orders), Ann and Ben (new), each built once."""
    await sync_customers(services)
    ids = {
        "jane": await profile_of(services, Source("shopify"), "S1"),
        "ann": await profile_of(services, Source("shopify"), "S2"),
        "ben": await profile_of(services, Source("shopify"), "S3"),
    }
    for profile_id in ids.values():
        await services.customers.refresh(profile_id, Loaders())
    return ids


def bought(
    oid: str, *, at: datetime = T0, codes_: tuple[str, ...] = (), total: str = "80", **kw: object
) -> OrderRecord:
    return OrderRecord(
        source=Source("shopify"),
        id=f"gid://shopify/Order/{oid}",
        channel=Channel.ONLINE,
        created_at=at,
        total=Money.of(total, "USD"),
        codes=codes_,
        **kw,  # type: ignore[arg-type]
    )


async def balance(services: Services, account_id: str) -> int:
    """The account's referral bonuses (its orders may earn points of their own)."""
    entries = await services.store.ledger.ledger_entries(account_id, limit=1000)
    return sum(e.points for e in entries if e.kind is LedgerKind.REFERRAL_BONUS)


async def test_a_first_order_with_a_referral_code_pays_both_sides_once(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann = people["jane"], people["ann"]
    typed = codes.referral_code(jane).lower()
    orders = [bought("1", codes_=("SUMMER10", typed)), bought("2", at=T0 + timedelta(days=3))]
    written = await reward_referral(services, ann, orders)
    assert [(e.account_id, e.points, e.kind) for e in written] == [
        (ann, BONUS, LedgerKind.REFERRAL_BONUS),
        (jane, BONUS, LedgerKind.REFERRAL_BONUS),
    ]
    stored = await services.store.ledger.get_entry(referrer_key(ann))
    assert stored is not None
    assert (stored.channel, stored.order_ref, stored.actor) == (
        "online",
        "gid://shopify/Order/1",
        "resolver",
    )
    assert stored.reason is not None
    assert codes.referral_code(jane) in stored.reason
    assert await reward_referral(services, ann, orders) == []
    assert (await balance(services, ann), await balance(services, jane)) == (BONUS, BONUS)


async def test_racing_replays_pay_each_side_once(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann = people["jane"], people["ann"]
    orders = [bought("1", codes_=(codes.referral_code(jane),))]
    results = await asyncio.gather(*(reward_referral(services, ann, orders) for _ in range(12)))
    assert sum(len(r) for r in results) == 2
    assert (await balance(services, ann), await balance(services, jane)) == (BONUS, BONUS)
    entries = await services.store.ledger.ledger_entries(jane)
    assert [e.key for e in entries if e.kind is LedgerKind.REFERRAL_BONUS] == [referrer_key(ann)]


async def test_only_the_first_paid_order_counts(services: Services, people: dict[str, str]) -> None:
    jane, ann, ben = people["jane"], people["ann"], people["ben"]
    code = codes.referral_code(jane)
    # The code on a second order: Ann was no longer new.
    assert (
        await reward_referral(
            services, ann, [bought("1"), bought("2", at=T0 + timedelta(days=1), codes_=(code,))]
        )
        == []
    )
    # A cancelled or free first order is not a paid one: the next one is the first.
    first = [
        bought("3", cancelled=True),
        bought("4", total="0"),
        bought("5", at=T0 + timedelta(hours=1), codes_=(code,)),
    ]
    assert [e.order_ref for e in await reward_referral(services, ben, first)] == [
        "gid://shopify/Order/5",
        "gid://shopify/Order/5",
    ]
    assert await balance(services, ann) == 0


async def test_an_unpaid_order_with_the_code_pays_once_it_is_paid(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann = people["jane"], people["ann"]
    authorised = bought("1", codes_=(codes.referral_code(jane),), paid=False)
    assert await reward_referral(services, ann, [authorised]) == []
    paid = await reward_referral(services, ann, [replace(authorised, paid=True)])
    assert sorted(e.account_id for e in paid) == sorted([ann, jane])


async def test_ordinary_member_and_own_codes_earn_nothing(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann = people["jane"], people["ann"]
    for typed in ("WELCOME", "0000000000", codes.member_code(jane), codes.referral_code(ann)):
        assert await reward_referral(services, ann, [bought("1", codes_=(typed,))]) == []
    assert await services.store.ledger.get_entry(referee_key(ann)) is None


async def test_a_code_of_a_profile_merged_into_the_referee_is_a_self_referral(
    services: Services, people: dict[str, str]
) -> None:
    ann, ben = people["ann"], people["ben"]
    await services.admin.merge([ann, ben], actor="test")
    assert (
        await reward_referral(services, ann, [bought("1", codes_=(codes.referral_code(ben),))])
        == []
    )
    assert await balance(services, ann) == 0


async def test_a_merged_away_referrers_code_pays_the_surviving_profile(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann, ben = people["jane"], people["ann"], people["ben"]
    await services.admin.merge([jane, ben], actor="test")
    written = await reward_referral(
        services, ann, [bought("1", codes_=(codes.referral_code(ben),))]
    )
    assert [e.account_id for e in written] == [ann, jane]


async def test_a_referee_merged_into_another_profile_is_referred_once(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann, ben = people["jane"], people["ann"], people["ben"]
    orders = [bought("1", codes_=(codes.referral_code(jane),))]
    assert len(await reward_referral(services, ann, orders)) == 2
    # Ann's records join Ben's profile; his build now sees her first order with the code.
    await services.admin.merge([ben, ann], actor="test")
    assert await reward_referral(services, ben, orders) == []
    with pytest.raises(BadUserInput, match="already"):
        await record_referral(ctx(services), ReferralAtTill(ben, codes.referral_code(jane), STORE))
    assert await balance(services, jane) == BONUS
    # After an unmerge Ben is his own person again, and may still be referred.
    await services.admin.unmerge(ben, actor="test")
    assert (
        len(
            await reward_referral(services, ben, [bought("7", codes_=(codes.referral_code(jane),))])
        )
        == 2
    )


def ctx(services: Services, viewer: Viewer = TILL) -> RequestContext:
    return RequestContext(viewer=viewer, services=services)


async def test_staff_enter_a_code_at_the_till_once(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann = people["jane"], people["ann"]
    claim = ReferralAtTill(ann, codes.referral_code(jane), STORE, order_ref="sale-1")
    entries = await record_referral(ctx(services), claim)
    assert [(e.key, e.account_id, e.channel, e.location_id, e.actor) for e in entries] == [
        (referee_key(ann), ann, "in_store", STORE, "till-1"),
        (referrer_key(ann), jane, "in_store", STORE, "till-1"),
    ]
    # A retried tap returns the same entries and pays nothing more.
    again = await record_referral(ctx(services), claim)
    assert [e.key for e in again] == [e.key for e in entries]
    assert (await balance(services, ann), await balance(services, jane)) == (BONUS, BONUS)
    # Another friend's code afterwards: already referred.
    ben_code = codes.referral_code(people["ben"])
    with pytest.raises(BadUserInput, match="already"):
        await record_referral(ctx(services), dataclasses.replace(claim, code=ben_code))
    # Nor does the online path pay anyone else for Ann now.
    assert await reward_referral(services, ann, [bought("9", codes_=(ben_code,))]) == []
    assert await balance(services, people["ben"]) == 0


async def test_racing_till_and_online_pay_one_referrer(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann, ben = people["jane"], people["ann"], people["ben"]
    till = ReferralAtTill(ann, codes.referral_code(jane), STORE)
    online = [bought("1", at=datetime.now(UTC), codes_=(codes.referral_code(ben),))]
    await asyncio.gather(
        *(record_referral(ctx(services), till) for _ in range(4)),
        *(reward_referral(services, ann, online) for _ in range(4)),
        return_exceptions=True,
    )
    referee = await services.store.ledger.get_entry(referee_key(ann))
    assert referee is not None
    assert await balance(services, ann) == BONUS
    paid = await balance(services, jane) + await balance(services, ben)
    assert paid == BONUS
    assert await balance(services, referee.meta["referrer"]) == BONUS


async def test_the_till_refuses_what_is_not_a_referral(
    services: Services, people: dict[str, str]
) -> None:
    jane, ann = people["jane"], people["ann"]
    code = codes.referral_code(ann)
    with pytest.raises(Forbidden):
        await record_referral(ctx(services), ReferralAtTill(ann, code, "square:other"))
    with pytest.raises(Forbidden):
        await record_referral(ctx(services), ReferralAtTill(ann, code, None))
    with pytest.raises(BadUserInput, match="own"):
        await record_referral(ctx(services), ReferralAtTill(ann, code, STORE))
    with pytest.raises(BadUserInput, match="member code"):
        await record_referral(ctx(services), ReferralAtTill(ann, codes.member_code(jane), STORE))
    with pytest.raises(BadUserInput):
        await record_referral(ctx(services), ReferralAtTill(ann, "nope", STORE))
    with pytest.raises(NotFound):
        await record_referral(ctx(services), ReferralAtTill(ann, "0000000000", STORE))
    with pytest.raises(NotFound):
        await record_referral(
            ctx(services), ReferralAtTill("cus_0000000000000000", codes.referral_code(jane), STORE)
        )
    # Jane has paid orders (the world's, in March 2026): she is not a new customer.
    with pytest.raises(BadUserInput, match="new customers"):
        await record_referral(ctx(services), ReferralAtTill(jane, code, STORE))
    assert await balance(services, ann) == 0
    assert await balance(services, jane) == 0
