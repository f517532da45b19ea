"""``analytics(from, to, locationIds)`` over the demo stack: the scope is checked once and
echoed, each figure answers from the store, and only internal tokens may ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import Demo
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCOPE = """query($from: DateTime, $to: DateTime, $locations: [ID!]) {
  analytics(from: $from, to: $to, locationIds: $locations) { from to locationIds }
}"""
LOYALTY = """query($from: DateTime, $to: DateTime) {
  analytics(from: $from, to: $to) {
    loyalty { earnedByChannel { channel points } redeemedByChannel { channel points }
              redeemedPoints crossChannelPoints crossChannelShare }
  }
  loyaltyFigures(from: $from, to: $to) {
    earnedByChannel { channel points } redeemedByChannel { channel points }
    redeemedPoints crossChannelPoints crossChannelShare
  }
}"""


async def test_the_scope_is_echoed_in_utc_with_the_locations_sorted(demo: Demo) -> None:
    body = await demo.gql(
        SCOPE,
        variables={
            "from": "2025-01-01T01:00:00+01:00",
            "to": "2025-03-01T00:00:00Z",
            "locations": ["b", "a", "b"],
        },
    )
    assert "errors" not in body, body
    got = body["data"]["analytics"]
    assert datetime.fromisoformat(got["from"]) == datetime(2025, 1, 1, tzinfo=UTC)
    assert datetime.fromisoformat(got["to"]) == datetime(2025, 3, 1, tzinfo=UTC)
    assert got["locationIds"] == ["a", "b"]


async def test_the_default_period_is_the_30_days_before_now(demo: Demo) -> None:
    before = datetime.now(UTC)
    body = await demo.gql(SCOPE)
    after = datetime.now(UTC)
    got = body["data"]["analytics"]
    until, since = datetime.fromisoformat(got["to"]), datetime.fromisoformat(got["from"])
    assert before <= until <= after
    assert until - since == timedelta(days=30)
    assert got["locationIds"] is None


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, None),
        ({"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "from"),
        ({"locations": []}, "locationIds"),
        ({"locations": [str(i) for i in range(101)]}, "locationIds"),
    ],
)
async def test_a_bad_scope_is_bad_user_input(
    demo: Demo, variables: dict[str, object], argument: str | None
) -> None:
    body = await demo.gql(SCOPE, variables=variables)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None
    if argument is not None:
        assert body["errors"][0]["extensions"]["argument"] == argument


async def test_loyalty_is_the_ledger_figures_of_the_same_period(demo: Demo) -> None:
    now = datetime.now(UTC)
    variables = {
        "from": (now - timedelta(days=1000)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    body = await demo.gql(LOYALTY, variables=variables)
    assert "errors" not in body, body
    loyalty = body["data"]["analytics"]["loyalty"]
    assert loyalty == body["data"]["loyaltyFigures"]
    assert sum(row["points"] for row in loyalty["earnedByChannel"]) > 0  # the demo earned


@pytest.mark.parametrize("token", ["demo-storefront", "demo-staff"])
async def test_storefront_and_staff_are_refused(demo: Demo, token: str) -> None:
    body = await demo.gql(SCOPE, token=token)
    assert codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


async def test_no_token_is_unauthenticated(demo: Demo) -> None:
    assert codes(await demo.gql(SCOPE, token=None)) == ["UNAUTHENTICATED"]


CUSTOMERS = """query($from: DateTime, $to: DateTime) {
  analytics(from: $from, to: $to) {
    customers { count multiSourceShare bothChannelsShare }
    customerClasses {
      omnichannel { count revenue { mean median } }
      onlineOnly { count } inStoreOnly { count }
      omnichannelVsOnlineOnly { revenue }
    }
    channelMonths { month buyers crossChannelShare storeToOnline onlineToStore }
    skuChannelMix(first: 5) { sku onlineUnits onlineRevenue inStoreUnits inStoreRevenue }
  }
}"""


async def test_customer_figures_over_the_demo_add_up(demo: Demo) -> None:
    now = datetime.now(UTC)
    variables = {
        "from": (now - timedelta(days=1000)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    body = await demo.gql(CUSTOMERS, variables=variables)
    assert "errors" not in body, body
    got = body["data"]["analytics"]
    count = got["customers"]["count"]
    assert count > 0
    classes = got["customerClasses"]
    # Every buyer is in exactly one class.
    assert (
        classes["omnichannel"]["count"]
        + classes["onlineOnly"]["count"]
        + classes["inStoreOnly"]["count"]
        == count
    )
    assert got["customers"]["bothChannelsShare"] == pytest.approx(
        classes["omnichannel"]["count"] / count
    )
    assert 0 <= got["customers"]["multiSourceShare"] <= 1
    assert sum(m["buyers"] for m in got["channelMonths"]) >= count
    mix = got["skuChannelMix"]
    assert 0 < len(mix) <= 5
    gaps = [abs(float(m["onlineRevenue"]) - float(m["inStoreRevenue"])) for m in mix]
    assert gaps == sorted(gaps, reverse=True)


@pytest.mark.parametrize("first", [0, 101])
async def test_the_sku_mix_takes_1_to_100(demo: Demo, first: int) -> None:
    body = await demo.gql(
        "query($n: Int!) { analytics { skuChannelMix(first: $n) { sku } } }",
        variables={"n": first},
    )
    assert codes(body) == ["BAD_USER_INPUT"]
