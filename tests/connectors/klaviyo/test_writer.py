"""Writing loyalty properties back: PATCH for one, bulk import for many, in the background,
retried, and never in the way of the caller."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connectors.klaviyo.properties import wire_properties
from connectors.klaviyo.writer import WriterSettings
from connectors.metrics import RequestCounter
from connectors.records import Money, ProfileUpdate
from sandboxes.base.faults import Fault, FaultMode
from sandboxes.demo.world import DemoWorld
from tests.connectors.klaviyo.conftest import MakeConnector, MakeSandbox, Sandbox
from tests.connectors.klaviyo.world import klaviyo_world

FAST = WriterSettings(linger=0.0, backoff_base=0.01, poll_first=0.01, poll_max=0.05)


def loyalty(i: int) -> dict[str, object]:
    return {
        "points": 100 + i,
        "tier": "gold" if i % 2 else "silver",
        "lifetime_value": Money.of("1234.567", "USD"),
        "omnichannel": True,
        "favourite_store": "SOHO",
        "unified_id": f"up_{i}",
    }


async def test_one_change_is_one_patch_of_the_prefixed_properties(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    target = world.klaviyo_profiles[3]
    await connector.update_profiles([ProfileUpdate(target.id, None, loyalty(3))])
    await connector.flush()
    counter = connector.http.counter
    assert counter.count("klaviyo", "update_profile") == 1
    assert counter.count("klaviyo", "bulk_import_profiles") == 0
    stored = sandbox.state.store.profiles[target.id].properties
    assert stored == {
        "source": "demo",
        "omnigate_loyalty_points": 103,
        "omnigate_loyalty_tier": "gold",
        "omnigate_lifetime_value": 1234.57,
        "omnigate_omnichannel": True,
        "omnigate_favourite_store": "SOHO",
        "omnigate_unified_id": "up_3",
    }


async def test_points_and_tier_for_1000_profiles_go_through_one_bulk_import_job(
    make_sandbox: MakeSandbox, make_connector: MakeConnector
) -> None:
    world = klaviyo_world(1000, events_per_profile=0)
    sandbox = await make_sandbox(world)
    counter = RequestCounter()
    connector = await make_connector(sandbox, counter=counter, writer=FAST)
    updates = [
        ProfileUpdate(p.id, None, {"points": i, "tier": "gold" if i >= 500 else "silver"})
        for i, p in enumerate(world.klaviyo_profiles)
    ]
    await connector.update_profiles(updates)
    await connector.flush()
    assert counter.count("klaviyo", "update_profile") == 0
    assert counter.count("klaviyo", "bulk_import_profiles") == 1
    assert counter.count("klaviyo", "get_bulk_import_profiles_job") >= 1
    print("writes for 1,000 profiles:", counter.snapshot()["klaviyo"])
    (job,) = sandbox.state.store.jobs.values()
    assert (job.status, job.total_count, job.completed_count, job.failed_count) == (
        "complete",
        1000,
        1000,
        0,
    )
    stored = sandbox.state.store.profiles
    for i, p in enumerate(world.klaviyo_profiles):
        assert stored[p.id].properties["omnigate_loyalty_points"] == i
    assert stored[world.klaviyo_profiles[999].id].properties["omnigate_loyalty_tier"] == "gold"
    assert connector.writer.stats.written == 1000
    assert connector.writer.stats.jobs == 1


async def test_update_profiles_returns_before_klaviyo_answers(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    sandbox.faults.add(Fault("update_profile", FaultMode.HANG))
    target = world.klaviyo_profiles[0].id
    # Klaviyo hangs, yet the call completes at once (bounded here to prove it).
    await asyncio.wait_for(
        connector.update_profiles([ProfileUpdate(target, None, {"points": 1})]), timeout=0.5
    )
    assert connector.writer.pending == 1
    sandbox.faults.clear()  # releases the hang: the retry then goes through
    await connector.flush()
    assert sandbox.state.store.profiles[target].properties["omnigate_loyalty_points"] == 1


async def test_updates_of_one_profile_are_coalesced_newest_value_wins(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=WriterSettings(linger=0.05))
    target = world.klaviyo_profiles[0].id
    await connector.update_profiles([ProfileUpdate(target, None, {"points": 1, "tier": "a"})])
    await connector.update_profiles([ProfileUpdate(target, None, {"points": 2})])
    await connector.update_profiles([ProfileUpdate(target, None, {"points": 3})])
    await connector.flush()
    assert connector.http.counter.count("klaviyo", "update_profile") == 1
    props = sandbox.state.store.profiles[target].properties
    assert (props["omnigate_loyalty_points"], props["omnigate_loyalty_tier"]) == (3, "a")


async def test_a_write_that_keeps_failing_at_the_http_layer_is_retried_by_the_writer(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=FAST, http={"max_retries": 1})
    # Two 503s exhaust the HTTP client's retries once; the writer tries again later.
    sandbox.faults.add(Fault("update_profile", FaultMode.STATUS_503, count=2))
    target = world.klaviyo_profiles[0].id
    await connector.update_profiles([ProfileUpdate(target, None, {"points": 7})])
    await connector.flush()
    assert connector.http.counter.outcomes("klaviyo", "update_profile") == {"503": 2, "200": 1}
    assert connector.writer.stats.retried == 1
    assert connector.writer.stats.written == 1
    assert sandbox.state.store.profiles[target].properties["omnigate_loyalty_points"] == 7


async def test_a_rejected_write_is_dropped_not_retried(
    sandbox: Sandbox, make_connector: MakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    await connector.update_profiles(
        [ProfileUpdate("01NOSUCHPROFILE0000000000", None, {"points": 1})]
    )
    await connector.flush()
    assert connector.http.counter.outcomes("klaviyo", "update_profile") == {"404": 1}
    assert connector.writer.stats.dropped == 1
    assert connector.writer.stats.retried == 0
    assert "rejected" in caplog.text


async def test_email_only_updates_go_through_a_job_that_matches_or_creates_by_email(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    sandbox.state.job_delay = 0.15  # Klaviyo takes a while: the writer must poll until done
    known = world.klaviyo_profiles[4]
    await connector.update_profiles(
        [
            ProfileUpdate(None, "PERSON4@example.com", {"tier": "bronze"}),
            ProfileUpdate(None, "newcomer@example.com", {"points": 5, "omnichannel": False}),
        ]
    )
    await connector.flush()
    store = sandbox.state.store
    assert connector.http.counter.count("klaviyo", "bulk_import_profiles") == 1
    assert connector.http.counter.count("klaviyo", "get_bulk_import_profiles_job") >= 2
    assert store.profiles[known.id].properties["omnigate_loyalty_tier"] == "bronze"
    created = store.by_email("newcomer@example.com")
    assert created is not None
    assert created.properties == {"omnigate_loyalty_points": 5, "omnigate_omnichannel": False}


async def test_none_unsets_a_property(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    target = world.klaviyo_profiles[0].id
    await connector.update_profiles([ProfileUpdate(target, None, {"favourite_store": "SOHO"})])
    await connector.flush()
    await connector.update_profiles([ProfileUpdate(target, None, {"favourite_store": None})])
    await connector.flush()
    assert "omnigate_favourite_store" not in sandbox.state.store.profiles[target].properties


async def test_a_cancelled_job_is_retried(
    sandbox: Sandbox, make_connector: MakeConnector, world: DemoWorld
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    store = sandbox.state.store
    original = store.schedule
    cancelled: list[str] = []

    def cancel_first(delay: float, callback: object) -> None:
        if not cancelled:
            job = list(store.jobs.values())[-1]
            job.status = "cancelled"
            cancelled.append(job.id)
            return
        original(delay, callback)  # type: ignore[arg-type]

    store.schedule = cancel_first  # type: ignore[method-assign]
    ids = [p.id for p in world.klaviyo_profiles[:3]]
    await connector.update_profiles([ProfileUpdate(pid, None, {"points": 9}) for pid in ids])
    await connector.flush()
    assert connector.http.counter.count("klaviyo", "bulk_import_profiles") == 2
    assert connector.writer.stats.retried == 3
    assert all(store.profiles[pid].properties["omnigate_loyalty_points"] == 9 for pid in ids)


def test_property_values_are_written_as_numbers_and_strings() -> None:
    to_set, unset = wire_properties(
        {"ltv": Decimal("10.005"), "custom_key": ("a", 1), "is_omnichannel": True, "tier": None}
    )
    assert to_set == {
        "omnigate_lifetime_value": 10.0,
        "custom_key": ["a", 1],
        "omnigate_omnichannel": True,
    }
    assert unset == ["omnigate_loyalty_tier"]


async def test_close_stops_the_worker_after_writing_what_is_queued(
    sandbox: Sandbox, world: DemoWorld, make_connector: MakeConnector
) -> None:
    connector = await make_connector(sandbox, writer=FAST)
    target = world.klaviyo_profiles[0].id
    await connector.update_profiles([ProfileUpdate(target, None, {"points": 11})])
    await connector.close()
    assert sandbox.state.store.profiles[target].properties["omnigate_loyalty_points"] == 11
    with pytest.raises(RuntimeError, match="not running"):
        await connector.flush()
