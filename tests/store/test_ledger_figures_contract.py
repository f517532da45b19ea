"""Cross-channel figures on every backend, against a small ledger computed by hand.

Period: March 2025. Members:

- ``ann`` earned 100 online in February (before the period) and 50 in store in March;
  she redeemed 80 in store in March: 80 of her online points (earned elsewhere) cover it.
- ``bob`` earned 200 online in March (100 of it pending, later settled: counted once) and
  redeemed 130 online and 60 in store in March, one in-store redemption of 40 reversed:
  in store he redeemed 20 net, all earned online (cross 20); online 130 draws on in-store
  earnings he has none of (cross 0).
- ``cy`` earned 30 in store in March, had 10 of it clawed back by a refund, redeemed 20 in
  store; and 5 points redeemed with no channel (counted per channel as ``None``, left out
  of the share). A goodwill adjustment of 500 is neither earned nor redeemed.
- ``dee`` redeemed 10 online in April (after the period): nothing of hers counts, and her
  earning in store in April does not either.

Earned in March: online 200 (bob), in store 50 (ann) + 30 - 10 (cy) = 70.
Redeemed in March: in store 80 (ann) + 20 (bob) + 20 (cy) = 120; online 130 (bob); none 5.
Share: redeemed in a channel 80 + 130 + 20 + 20 = 250; earned elsewhere 80 + 20 = 100.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.records import Source
from resolvers.model import LedgerEntry, LedgerKind
from resolvers.store import LedgerStore
from resolvers.store.ledger import ChannelPoints, settle_key

FEB = datetime(2025, 2, 10, tzinfo=UTC)
MAR = datetime(2025, 3, 10, tzinfo=UTC)
APR = datetime(2025, 4, 2, tzinfo=UTC)
SINCE = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = datetime(2025, 4, 1, tzinfo=UTC)

ONLINE, IN_STORE = "online", "in_store"


def e(
    key: str,
    account: str,
    points: int,
    kind: LedgerKind,
    at: datetime,
    channel: str | None,
    **more: object,
) -> LedgerEntry:
    return LedgerEntry(
        key=key,
        account_id=account,
        points=points,
        kind=kind,
        at=at,
        source=Source("shopify"),
        channel=channel,
        **more,  # type: ignore[arg-type]
    )


LEDGER = [
    e("earn:ann:1", "ann", 100, LedgerKind.EARN, FEB, ONLINE),
    e("earn:ann:2", "ann", 50, LedgerKind.EARN, MAR, IN_STORE),
    e("redeem:ann:1", "ann", -80, LedgerKind.REDEEM, MAR, IN_STORE),
    e("earn:bob:1", "bob", 100, LedgerKind.EARN, MAR, ONLINE),
    e("earn:bob:2", "bob", 100, LedgerKind.PENDING_EARN, MAR, ONLINE),
    e(
        settle_key("earn:bob:2"),
        "bob",
        100,
        LedgerKind.EARN,
        MAR,
        ONLINE,
        settles="earn:bob:2",
    ),
    e("redeem:bob:1", "bob", -130, LedgerKind.REDEEM, MAR, ONLINE),
    e("redeem:bob:2", "bob", -20, LedgerKind.REDEEM, MAR, IN_STORE),
    e("redeem:bob:3", "bob", -40, LedgerKind.REDEEM, MAR, IN_STORE),
    e(
        "reverse:redeem:bob:3",
        "bob",
        40,
        LedgerKind.REDEEM_REVERSAL,
        MAR,
        IN_STORE,
        settles="redeem:bob:3",
    ),
    e("earn:cy:1", "cy", 30, LedgerKind.EARN, MAR, IN_STORE),
    e("adjust:cy:1", "cy", 500, LedgerKind.ADJUST, MAR, None, reason="goodwill"),
    e("clawback:cy:1", "cy", -10, LedgerKind.REFUND_CLAWBACK, MAR, IN_STORE),
    e("redeem:cy:1", "cy", -20, LedgerKind.REDEEM, MAR, IN_STORE),
    e("redeem:cy:2", "cy", -5, LedgerKind.REDEEM, MAR, None),
    e("earn:dee:1", "dee", 70, LedgerKind.EARN, APR, IN_STORE),
    e("redeem:dee:1", "dee", -10, LedgerKind.REDEEM, APR, ONLINE),
]


async def write(ledger: LedgerStore) -> None:
    for item in LEDGER:
        result, _ = await ledger.apply_ledger_entry(item)
        assert result.value == "applied", item.key


async def test_figures_match_the_hand_computed_ledger(ledger: LedgerStore) -> None:
    await write(ledger)
    figures = await ledger.loyalty_figures(SINCE, UNTIL)
    assert figures.earned_by_channel == (
        ChannelPoints(IN_STORE, 70),
        ChannelPoints(ONLINE, 200),
    )
    assert figures.redeemed_by_channel == (
        ChannelPoints(IN_STORE, 120),
        ChannelPoints(ONLINE, 130),
        ChannelPoints(None, 5),
    )
    assert (figures.redeemed_points, figures.cross_channel_points) == (250, 100)
    assert figures.cross_channel_share == 100 / 250


async def test_an_empty_period_has_no_figures(ledger: LedgerStore) -> None:
    await write(ledger)
    figures = await ledger.loyalty_figures(
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    )
    assert figures.earned_by_channel == ()
    assert figures.redeemed_by_channel == ()
    assert figures.cross_channel_share == 0.0


async def test_april_counts_only_april(ledger: LedgerStore) -> None:
    """dee's online redemption draws on her in-store earning: all of it cross-channel."""
    await write(ledger)
    figures = await ledger.loyalty_figures(UNTIL, datetime(2025, 5, 1, tzinfo=UTC))
    assert figures.earned_by_channel == (ChannelPoints(IN_STORE, 70),)
    assert figures.redeemed_by_channel == (ChannelPoints(ONLINE, 10),)
    assert (figures.redeemed_points, figures.cross_channel_points) == (10, 10)
