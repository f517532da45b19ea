"""Member codes at the counter, on every store backend: a profile build indexes the codes,
``customer_by_member_code`` finds the customer from a typed or scanned code (a store-bound
token sees them as found by exact email or phone), and a merged-away member's card keeps
working until an unmerge gives each code its own profile back."""

from __future__ import annotations

import pytest

from connectors.records import Source
from connectors.registry import ConnectorSet
from gateway.runtime import compose_services
from resolvers.context import RequestContext, ResolverConfig, Services
from resolvers.customers.member_codes import customer_by_member_code
from resolvers.customers.queries import get_customer
from resolvers.customers.sync import sync_customers
from resolvers.errors import BadUserInput, Forbidden
from resolvers.events import EventBus
from resolvers.loaders import Loaders
from resolvers.loyalty import codes
from resolvers.store import Store
from resolvers.store.codes import CodePurpose
from resolvers.viewer import Role, Viewer
from tests.resolvers.fakes import FakeCommerce, FakeMarketing
from tests.resolvers.world import profile_of

INTERNAL = Viewer(Role.INTERNAL, name="ops")
#: Bound to a store none of the world's customers bought at.
ELSEWHERE = Viewer(Role.STAFF, frozenset({"square:faraway"}), name="till-9")


@pytest.fixture
def services(store: Store, world: dict[str, FakeCommerce | FakeMarketing]) -> Services:
    return compose_services(
        store=store,
        connectors=ConnectorSet(world.values()),  # type: ignore[arg-type]
        events=EventBus(),
        config=ResolverConfig(profile_ttl_seconds=60),
    )


async def built(services: Services, source: str, sid: str) -> str:
    """The person's profile id, once their profile is built (which indexes their codes)."""
    profile_id = await profile_of(services, Source(source), sid)
    assert await services.customers.refresh(profile_id, Loaders()) is not None
    return profile_id


def ctx(services: Services, viewer: Viewer = INTERNAL) -> RequestContext:
    return RequestContext(viewer=viewer, services=services)


async def found(services: Services, code: str, viewer: Viewer = INTERNAL) -> str | None:
    served = await customer_by_member_code(ctx(services, viewer), code)
    return served.profile.id if served is not None else None


async def test_a_built_profile_is_found_by_its_member_code(services: Services) -> None:
    await sync_customers(services)
    jane = await built(services, "shopify", "S1")
    code = codes.member_code(jane)
    owner = await services.store.codes.code_owner(code)
    assert owner is not None
    assert (owner.customer_id, owner.purpose) == (jane, CodePurpose.MEMBER)
    assert await found(services, code) == jane
    # As typed at a till: lower case, grouped with dashes and spaces, O for 0 and l for 1.
    typed = f" {code[:5]}-{code[5:]} ".lower().replace("0", "o").replace("1", "l")
    assert await found(services, typed) == jane


async def test_unknown_referral_and_malformed_codes(services: Services) -> None:
    await sync_customers(services)
    jane = await built(services, "shopify", "S1")
    assert await found(services, "0000000000") is None
    # A referral code is given to friends: it never finds its owner at a counter.
    assert await found(services, codes.referral_code(jane)) is None
    for malformed in ("", "ABC", "ABCDEFGHJKM", "ABCDEFGHU1", "ABCDE!GHJK"):
        with pytest.raises(BadUserInput) as raised:
            await found(services, malformed)
        assert raised.value.extensions == {"argument": "code"}


async def test_a_store_bound_token_sees_the_customer_who_shows_their_code(
    services: Services,
) -> None:
    await sync_customers(services)
    jane = await built(services, "shopify", "S1")
    assert await found(services, codes.member_code(jane), ELSEWHERE) == jane
    # The same token does not see her by id: she has no activity at its store.
    with pytest.raises(Forbidden):
        await get_customer(ctx(services, ELSEWHERE), jane)


async def test_a_merged_away_members_card_finds_the_surviving_profile(
    services: Services,
) -> None:
    await sync_customers(services)
    ann = await built(services, "shopify", "S2")
    ben = await built(services, "shopify", "S3")
    ann_code, ben_code = codes.member_code(ann), codes.member_code(ben)
    assert await services.admin.merge([ann, ben], actor="test") == ann
    assert await found(services, ben_code) == ann
    assert await found(services, ann_code) == ann
    assert sorted(await services.admin.unmerge(ann, actor="test")) == sorted([ann, ben])
    assert await found(services, ben_code) == ben
    assert await found(services, ann_code) == ann


async def test_an_erased_members_code_finds_nobody(services: Services) -> None:
    await sync_customers(services)
    ann = await built(services, "shopify", "S2")
    await services.admin.erase(ann)
    assert await services.store.codes.code_owner(codes.member_code(ann)) is None
    assert await found(services, codes.member_code(ann)) is None
