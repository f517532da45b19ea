"""The :class:`~resolvers.store.WebhookStore` contract: receipts, claims with a lease, dead
letters, on every backend (see ``tests/store/conftest.py``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from connectors.records import Source
from gateway.store.timeutil import utc_now
from resolvers.store import DeadLetter, ReceiptClaim, WebhookStore
from tests.store.builders import T0


async def test_receipts_dedupe_replays(webhooks: WebhookStore) -> None:
    assert await webhooks.record_receipt(Source("shopify"), "evt-1", T0) is True
    assert (
        await webhooks.record_receipt(Source("shopify"), "evt-1", T0 + timedelta(seconds=5))
        is False
    )
    assert await webhooks.record_receipt(Source("square"), "evt-1", T0) is True
    await webhooks.release_receipt(Source("shopify"), "evt-1")
    assert (
        await webhooks.record_receipt(Source("shopify"), "evt-1", T0 + timedelta(seconds=9)) is True
    )
    replays = await asyncio.gather(
        *(webhooks.record_receipt(Source("klaviyo"), "evt-2", T0) for _ in range(10))
    )
    assert replays.count(True) == 1


LEASE = timedelta(minutes=5)


async def test_a_claim_is_in_flight_until_completed_then_a_duplicate(
    webhooks: WebhookStore,
) -> None:
    claim = webhooks.claim_receipt
    assert await claim(Source("shopify"), "evt-1", T0, lease=LEASE) is ReceiptClaim.CLAIMED
    later = T0 + timedelta(seconds=30)
    assert await claim(Source("shopify"), "evt-1", later, lease=LEASE) is ReceiptClaim.IN_FLIGHT
    assert await claim(Source("square"), "evt-1", later, lease=LEASE) is ReceiptClaim.CLAIMED
    await webhooks.complete_receipt(Source("shopify"), "evt-1")
    assert await claim(Source("shopify"), "evt-1", later, lease=LEASE) is ReceiptClaim.DUPLICATE
    # Long after the lease, a finished receipt is still a duplicate.
    much_later = T0 + timedelta(hours=1)
    assert (
        await claim(Source("shopify"), "evt-1", much_later, lease=LEASE) is ReceiptClaim.DUPLICATE
    )


async def test_a_released_claim_can_be_claimed_again(webhooks: WebhookStore) -> None:
    assert await webhooks.claim_receipt(Source("shopify"), "body:ab", T0, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    await webhooks.release_receipt(Source("shopify"), "body:ab")
    again = await webhooks.claim_receipt(Source("shopify"), "body:ab", T0, lease=LEASE)
    assert again is ReceiptClaim.CLAIMED


async def test_an_abandoned_claim_is_taken_over_after_its_lease(webhooks: WebhookStore) -> None:
    """The attempt that claimed it died, or could not release it because the store was down:
    the vendor's retry after the lease is applied, not dropped as a duplicate."""
    assert await webhooks.claim_receipt(Source("shopify"), "evt-9", T0, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    just_before = T0 + LEASE - timedelta(seconds=1)
    assert await webhooks.claim_receipt(Source("shopify"), "evt-9", just_before, lease=LEASE) is (
        ReceiptClaim.IN_FLIGHT
    )
    after = T0 + LEASE + timedelta(seconds=1)
    assert await webhooks.claim_receipt(Source("shopify"), "evt-9", after, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    # The new claim has its own lease.
    soon = after + timedelta(seconds=10)
    assert await webhooks.claim_receipt(Source("shopify"), "evt-9", soon, lease=LEASE) is (
        ReceiptClaim.IN_FLIGHT
    )


async def test_concurrent_claims_have_one_winner(webhooks: WebhookStore) -> None:
    results = await asyncio.gather(
        *(webhooks.claim_receipt(Source("square"), "evt-race", T0, lease=LEASE) for _ in range(10))
    )
    assert results.count(ReceiptClaim.CLAIMED) == 1
    assert results.count(ReceiptClaim.IN_FLIGHT) == 9
    after = T0 + LEASE * 2
    takeovers = await asyncio.gather(
        *(
            webhooks.claim_receipt(Source("square"), "evt-race", after, lease=LEASE)
            for _ in range(10)
        )
    )
    assert takeovers.count(ReceiptClaim.CLAIMED) == 1


async def test_a_receipt_recorded_the_old_way_is_a_duplicate_for_claims(
    webhooks: WebhookStore,
) -> None:
    assert await webhooks.record_receipt(Source("shopify"), "evt-old", T0) is True
    assert await webhooks.claim_receipt(Source("shopify"), "evt-old", T0, lease=LEASE) is (
        ReceiptClaim.DUPLICATE
    )
    assert await webhooks.claim_receipt(Source("shopify"), "evt-new", T0, lease=LEASE) is (
        ReceiptClaim.CLAIMED
    )
    assert await webhooks.record_receipt(Source("shopify"), "evt-new", T0) is False


def letter(digest: str = "d1", **fields: object) -> DeadLetter:
    base: dict[str, object] = {
        "source": Source("shopify"),
        "body_digest": digest,
        "reason": "customers/update: email: Input should be a valid string",
        "received_at": utc_now(),
        "body": b'{"id": 1, "email": 123}\xff',
        "topic": "customers/update",
        "event_id": "evt-1",
        "headers": {"x-shopify-topic": "customers/update", "x-shopify-hmac-sha256": "c2ln"},
    }
    base.update(fields)
    return DeadLetter(**base)  # type: ignore[arg-type]


async def test_dead_letters_round_trip_with_their_raw_body(webhooks: WebhookStore) -> None:
    assert await webhooks.count_dead_letters() == 0
    kept = letter()
    assert await webhooks.put_dead_letter(kept) is True
    (got,) = await webhooks.dead_letters()
    assert got == kept
    assert got.body == b'{"id": 1, "email": 123}\xff'
    assert await webhooks.dead_letter(Source("shopify"), "d1") == kept
    assert await webhooks.dead_letter(Source("square"), "d1") is None
    assert await webhooks.count_dead_letters() == 1


async def test_a_redelivered_body_keeps_one_dead_letter(webhooks: WebhookStore) -> None:
    assert await webhooks.put_dead_letter(letter(reason="first")) is True
    assert await webhooks.put_dead_letter(letter(reason="second")) is False
    (got,) = await webhooks.dead_letters()
    assert (got.deliveries, got.reason) == (2, "second")
    # Same digest, another vendor: another letter.
    assert await webhooks.put_dead_letter(letter(source=Source("square"))) is True
    assert await webhooks.count_dead_letters() == 2


async def test_concurrent_first_deliveries_store_one_dead_letter(webhooks: WebhookStore) -> None:
    results = await asyncio.gather(*(webhooks.put_dead_letter(letter("race")) for _ in range(10)))
    assert results.count(True) == 1
    (got,) = await webhooks.dead_letters()
    assert got.deliveries == 10


async def test_dead_letters_are_listed_newest_first_and_by_source(webhooks: WebhookStore) -> None:
    now = utc_now()
    await webhooks.put_dead_letter(letter("old", received_at=now - timedelta(hours=2)))
    await webhooks.put_dead_letter(letter("new", received_at=now))
    await webhooks.put_dead_letter(
        letter("sq", source=Source("square"), received_at=now - timedelta(hours=1))
    )
    assert [d.body_digest for d in await webhooks.dead_letters()] == ["new", "sq", "old"]
    assert [d.body_digest for d in await webhooks.dead_letters(limit=1)] == ["new"]
    assert [d.body_digest for d in await webhooks.dead_letters(Source("square"))] == ["sq"]
    assert await webhooks.delete_dead_letter(Source("shopify"), "old") is True
    assert await webhooks.delete_dead_letter(Source("shopify"), "old") is False
    assert await webhooks.count_dead_letters() == 2
