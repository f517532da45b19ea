"""The loyalty property sync against a recording marketing sink: changes are collected
(one update per account however often it moved), batched, sent with the current figures,
retried after the sink refuses (never dropped), a change during a send goes out after it,
erased or unlinked customers are not sent, and a redemption answers while the sink hangs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from connectors.errors import UpstreamUnavailable
from connectors.records import ProfileUpdate, Source
from connectors.registry import ConnectorSet
from gateway.loyalty_sync import LoyaltySync
from gateway.runtime import compose_services
from gateway.store import MemoryStore
from resolvers.context import Services
from resolvers.loyalty import points
from resolvers.loyalty.codes import member_code
from resolvers.model import Identity, ProfileDoc
from resolvers.viewer import Role, Viewer

KLAVIYO = Source("klaviyo")
INTERNAL = Viewer(role=Role.INTERNAL, name="ops")


@dataclass
class RecordingSink:
    """A MarketingSink that records each batch; it can refuse the next ``failures`` batches
    or hold every batch until ``release`` is set."""

    source: Source = KLAVIYO
    batches: list[list[ProfileUpdate]] = field(default_factory=list)
    failures: int = 0
    release: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def circuit_state(self) -> str:
        return "closed"

    async def update_profiles(self, updates: Sequence[ProfileUpdate]) -> None:
        self.entered.set()
        if self.release is not None:
            await self.release.wait()
        if self.failures > 0:
            self.failures -= 1
            raise UpstreamUnavailable("klaviyo is down", source=KLAVIYO, operation="update")
        self.batches.append(list(updates))

    async def request_deletion(self, *, email: str | None, phone: str | None) -> None: ...

    def latest(self) -> dict[str, dict[str, object]]:
        return {u.profile_id or "": u.properties for batch in self.batches for u in batch}


async def member(services: Services, customer_id: str, *, linked: bool = True) -> None:
    await services.store.profiles.put_profile(ProfileDoc(id=customer_id, body={}))
    if linked:
        await services.store.identities.link_identities(
            [Identity(source=KLAVIYO, source_id=f"kl-{customer_id}", profile_id=customer_id)]
        )


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def services(sink: RecordingSink) -> Services:
    return compose_services(MemoryStore(), ConnectorSet([sink]))  # type: ignore[list-item]


@pytest.fixture
async def sync(services: Services) -> AsyncIterator[LoyaltySync]:
    worker = LoyaltySync(services, interval=0.01, batch_size=50, backoff_base=0.01)
    worker.start()
    await worker.listening()
    yield worker
    await worker.stop()


async def adjust(services: Services, customer_id: str, delta: int) -> None:
    await points.adjust(services, INTERNAL, customer_id, delta, "test")


async def test_changes_are_deduplicated_and_batched_with_current_figures(
    services: Services, sink: RecordingSink
) -> None:
    """An hour's interval: only the third distinct account (a full batch) sends."""
    sync = LoyaltySync(services, interval=3600, batch_size=3)
    sync.start()
    await sync.listening()
    for name in ("cus_a", "cus_b", "cus_c"):
        await member(services, name)
    for _ in range(5):
        await adjust(services, "cus_a", 10)
    await adjust(services, "cus_b", 7)
    await adjust(services, "cus_c", 3)
    await sync.idle()
    assert len(sink.batches) == 1
    (batch,) = sink.batches
    assert sorted(u.profile_id or "" for u in batch) == ["kl-cus_a", "kl-cus_b", "kl-cus_c"]
    sent = sink.latest()["kl-cus_a"]
    assert sent["points"] == 50
    assert sent["lifetime_points"] == 50
    assert sent["pending_points"] == 0
    assert sent["member_code"] == member_code("cus_a")
    assert sent["points_expire_at"] is not None  # the default programme lets points lapse
    assert sync.stats.updates == 3
    await sync.stop()


async def test_a_batch_the_sink_refuses_is_sent_again_with_the_newest_figures(
    services: Services, sink: RecordingSink, sync: LoyaltySync
) -> None:
    await member(services, "cus_a")
    sink.failures = 2
    await adjust(services, "cus_a", 10)
    await sync.idle()
    assert sync.stats.retries == 2
    assert sink.latest()["kl-cus_a"]["points"] == 10


async def test_a_change_during_a_send_goes_out_after_it(
    services: Services, sink: RecordingSink, sync: LoyaltySync
) -> None:
    await member(services, "cus_a")
    sink.release = asyncio.Event()
    await adjust(services, "cus_a", 10)
    await sink.entered.wait()  # the first batch is in flight, holding 10
    await adjust(services, "cus_a", 5)
    assert sync.waiting >= 1
    sink.release.set()
    await sync.idle()
    assert [b[0].properties["points"] for b in sink.batches] == [10, 15]


async def test_erased_and_unlinked_customers_are_not_sent(
    services: Services, sink: RecordingSink
) -> None:
    sync = LoyaltySync(services, interval=3600)  # not started: one batch, sent by hand
    await member(services, "cus_a")
    await member(services, "cus_gone")
    await member(services, "cus_unlinked", linked=False)
    for name in ("cus_a", "cus_gone", "cus_unlinked"):
        await adjust(services, name, 10)
    await services.store.profiles.delete_profile("cus_gone")
    sent = await sync.send(["cus_a", "cus_gone", "cus_unlinked", "anon_0123456789abcdef"])
    assert sent == 1
    assert list(sink.latest()) == ["kl-cus_a"]
    assert (sync.stats.erased, sync.stats.unlinked) == (2, 1)


async def test_a_redemption_answers_while_the_sink_hangs(
    services: Services, sink: RecordingSink, sync: LoyaltySync
) -> None:
    await member(services, "cus_a")
    sink.release = asyncio.Event()  # never set until the end: the sink hangs
    await adjust(services, "cus_a", 100)
    await sink.entered.wait()
    entry = await points.redeem(
        services, INTERNAL, points.Redemption("cus_a", 30, idempotency_key="till-1")
    )
    assert entry.points == -30
    assert sync.waiting >= 1  # nothing has reached the sink, and the answer did not wait
    assert sink.batches == []
    sink.release.set()
    await sync.idle()
    assert sink.latest()["kl-cus_a"]["points"] == 70


async def test_turned_off_it_does_not_listen(services: Services, sink: RecordingSink) -> None:
    worker = LoyaltySync(services, interval=0)
    worker.start()
    assert services.events.subscriber_count("loyalty.account") == 0
    await worker.stop()


async def test_what_is_waiting_at_stop_is_sent(services: Services, sink: RecordingSink) -> None:
    worker = LoyaltySync(services, interval=3600, batch_size=50)
    worker.start()
    await worker.listening()
    await member(services, "cus_a")
    await adjust(services, "cus_a", 10)
    await worker.stop()
    assert sink.latest()["kl-cus_a"]["points"] == 10
