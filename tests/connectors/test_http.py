"""The shared HTTP client against a real loopback server with injected faults."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest

from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.http import HttpClient, HttpConfig, HttpResponse
from connectors.metrics import RequestCounter
from connectors.records import Source
from sandboxes.base.faults import Fault, FaultMode
from tests.connectors.conftest import (
    LIMITED_UNTIL,
    TOKEN,
    FakeClock,
    MakeClient,
    RecordingSleep,
    Upstream,
    http_date_minus,
)


async def test_success_returns_status_json_and_counts_one_request(
    upstream: Upstream, make_client: MakeClient
) -> None:
    client = await make_client()
    response = await client.request("GET", "/items", operation="list_items")
    assert response.ok
    assert response.status == 200
    assert response.json["items"][0]["name"] == "Mug"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.elapsed > 0
    assert client.counter.count("tiny", "list_items") == 1
    assert client.counter.outcomes("tiny", "list_items") == {"200": 1}
    assert upstream.seen("items") == 1


async def test_429_with_retry_after_waits_in_real_time_then_succeeds(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_429, retry_after=1, count=1))
    client = await make_client()
    started = time.perf_counter()
    response = await client.request("GET", "/items", operation="list_items")
    elapsed = time.perf_counter() - started
    assert response.status == 200
    assert 0.9 <= elapsed < 3.0
    assert client.counter.count("tiny", "list_items") == 2
    assert client.counter.retries("tiny", "list_items") == 1
    assert client.counter.outcomes("tiny", "list_items") == {"429": 1, "200": 1}
    assert upstream.seen("items") == 2


async def test_burst_of_500s_opens_circuit_then_a_success_after_reset_closes_it(
    upstream: Upstream, make_client: MakeClient
) -> None:
    clock = FakeClock()
    client = await make_client(breaker_failures=3, breaker_reset=30.0, clock=clock)
    upstream.faults.add(Fault("items", FaultMode.STATUS_500))

    for _ in range(3):
        with pytest.raises(UpstreamUnavailable) as failed:
            await client.request("GET", "/items", operation="list_items")
        assert failed.value.status == 500
    assert client.circuit_state() == "open"
    assert upstream.seen("items") == 3
    assert client.counter.retries() == 0  # 500 is not retried

    for _ in range(2):
        with pytest.raises(UpstreamUnavailable, match="circuit open"):
            await client.request("GET", "/items", operation="list_items")
    assert upstream.seen("items") == 3
    assert client.counter.count("tiny", "list_items") == 3
    assert client.counter.rejected("tiny", "list_items") == 2

    upstream.faults.clear()
    clock.advance(29.9)
    with pytest.raises(UpstreamUnavailable, match="circuit open"):
        await client.request("GET", "/items", operation="list_items")
    clock.advance(0.1)
    assert client.circuit_state() == "half_open"
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert client.circuit_state() == "closed"
    assert upstream.seen("items") == 4


async def test_failed_half_open_trial_reopens_circuit(
    upstream: Upstream, make_client: MakeClient
) -> None:
    clock = FakeClock()
    client = await make_client(breaker_failures=1, breaker_reset=10.0, clock=clock, max_retries=0)
    upstream.faults.add(Fault("items", FaultMode.STATUS_503))
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items")
    clock.advance(10)
    with pytest.raises(UpstreamUnavailable) as trial:
        await client.request("GET", "/items", operation="list_items")
    assert trial.value.status == 503
    assert client.circuit_state() == "open"
    assert upstream.seen("items") == 2


async def test_a_retry_loop_that_opens_the_circuit_stops_with_the_real_error(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_503))
    sleep = RecordingSleep()
    client = await make_client(breaker_failures=2, max_retries=3, sleep=sleep)
    with pytest.raises(UpstreamUnavailable) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.status == 503  # not "circuit open"
    assert len(sleep.delays) == 1  # no backoff wasted once the circuit is open
    assert upstream.seen("items") == 2
    assert client.circuit_state() == "open"


async def test_a_cancelled_half_open_trial_frees_the_slot(
    upstream: Upstream, make_client: MakeClient
) -> None:
    clock = FakeClock()
    client = await make_client(breaker_failures=1, breaker_reset=5.0, clock=clock)
    upstream.faults.add(Fault("items", FaultMode.STATUS_500, count=1))
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items")
    upstream.faults.add(Fault("items", FaultMode.HANG))
    clock.advance(5)
    trial = asyncio.create_task(client.request("GET", "/items", operation="list_items"))
    await asyncio.sleep(0)  # let the trial take the half-open slot and go on the wire
    assert not client.breaker.allow()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert client.circuit_state() == "half_open"
    assert client.breaker.allow()
    assert client.counter.outcomes("tiny", "list_items") == {"500": 1, "cancelled": 1}


async def test_client_errors_and_rate_limits_never_open_the_circuit(
    upstream: Upstream, make_client: MakeClient
) -> None:
    client = await make_client(breaker_failures=2, max_retries=0)
    upstream.faults.add(Fault("items", FaultMode.STATUS_429, retry_after=0))
    for path, error in [
        ("/missing", UpstreamBadResponse),
        ("/private", UpstreamAuthError),
        ("/items", UpstreamRateLimited),
        ("/missing", UpstreamBadResponse),
        ("/items", UpstreamRateLimited),
    ]:
        with pytest.raises(error):
            await client.request("GET", path, operation="probe")
    assert client.circuit_state() == "closed"
    assert client.counter.count("tiny", "probe") == 5


async def test_hang_becomes_unavailable_within_the_total_timeout(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.HANG))
    client = await make_client(total_timeout=0.3, max_retries=0)
    started = time.perf_counter()
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        await client.request("GET", "/items", operation="list_items")
    elapsed = time.perf_counter() - started
    assert 0.25 <= elapsed < 1.5
    assert client.counter.outcomes("tiny", "list_items") == {"timeout": 1}
    assert client.breaker.failures == 1


async def test_a_hang_is_retried_and_the_next_attempt_succeeds(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.HANG, count=1))
    sleep = RecordingSleep()
    client = await make_client(total_timeout=0.3, max_retries=2, sleep=sleep)
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert len(sleep.delays) == 1
    assert client.counter.outcomes("tiny", "list_items") == {"timeout": 1, "200": 1}


async def test_malformed_json_is_a_bad_response_and_not_retried(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.MALFORMED))
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep)
    with pytest.raises(UpstreamBadResponse) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.code == "UPSTREAM_BAD_RESPONSE"
    assert failed.value.status == 200
    assert "trunc" not in str(failed.value)  # never echo the body
    assert sleep.delays == []
    assert upstream.seen("items") == 1
    assert client.breaker.failures == 0


async def test_malformed_body_is_fine_when_json_is_not_expected(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.MALFORMED))
    client = await make_client()
    response = await client.request("GET", "/items", operation="raw", expect_json=False)
    assert response.json is None
    assert response.text.startswith('{"data"')


async def test_401_and_403_are_auth_errors_and_not_retried(
    upstream: Upstream, make_client: MakeClient
) -> None:
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep)
    with pytest.raises(UpstreamAuthError) as unauthorized:
        await client.request("GET", "/private", operation="private")
    with pytest.raises(UpstreamAuthError) as forbidden:
        await client.request("GET", "/forbidden", operation="forbidden")
    assert (unauthorized.value.status, forbidden.value.status) == (401, 403)
    assert unauthorized.value.code == "UPSTREAM_AUTH_ERROR"
    assert sleep.delays == []
    assert client.counter.count() == 2

    authorized = await make_client(default_headers={"Authorization": f"Bearer {TOKEN}"})
    assert (await authorized.request("GET", "/private", operation="private")).json == {"ok": True}


async def test_other_4xx_is_a_bad_response(upstream: Upstream, make_client: MakeClient) -> None:
    client = await make_client()
    with pytest.raises(UpstreamBadResponse) as failed:
        await client.request("GET", "/missing", operation="missing")
    assert failed.value.status == 404
    assert client.counter.count() == 1


async def test_post_is_retried_only_when_the_caller_says_it_is_idempotent(
    upstream: Upstream, make_client: MakeClient
) -> None:
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep)
    upstream.faults.add(Fault("orders", FaultMode.STATUS_503, count=2))

    with pytest.raises(UpstreamUnavailable) as failed:
        await client.request("POST", "/orders", operation="create_order", json={"sku": "MUG"})
    assert failed.value.status == 503
    assert client.counter.count("tiny", "create_order") == 1
    assert sleep.delays == []

    response = await client.request(
        "POST", "/orders", operation="search_orders", json={"sku": "MUG"}, idempotent=True
    )
    assert response.status == 201
    assert response.json == {"created": {"sku": "MUG"}}
    assert client.counter.count("tiny", "search_orders") == 2
    assert len(sleep.delays) == 1
    assert upstream.seen("orders") == 3


async def test_get_is_not_retried_when_the_caller_opts_out(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_503, count=1))
    client = await make_client(sleep=RecordingSleep())
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items", idempotent=False)
    assert upstream.seen("items") == 1


async def test_backoff_uses_full_jitter_bounded_by_the_exponential_ceiling(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_502, count=3))
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, max_retries=3, backoff_base=0.1, backoff_max=0.25)
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert len(sleep.delays) == 3
    for retry, delay in enumerate(sleep.delays):
        assert 0.0 <= delay <= min(0.25, 0.1 * 2**retry)
    assert client.counter.retries("tiny", "list_items") == 3


async def test_exhausted_retries_raise_the_last_error(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_504))
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, max_retries=2, breaker_failures=10)
    with pytest.raises(UpstreamUnavailable) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.status == 504
    assert failed.value.source == "tiny"
    assert failed.value.operation == "list_items"
    assert client.counter.snapshot() == {
        "tiny": {"list_items": {"requests": 3, "retries": 2, "rejected": 0, "outcomes": {"504": 3}}}
    }


async def test_rate_limit_after_retries_carries_the_servers_hint(
    upstream: Upstream, make_client: MakeClient
) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_429, retry_after=7))
    client = await make_client(max_retries=0)
    with pytest.raises(UpstreamRateLimited) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.retry_after == 7
    assert failed.value.code == "UPSTREAM_RATE_LIMITED"
    assert failed.value.status == 429


async def test_retry_after_as_http_date_is_the_minimum_wait(
    upstream: Upstream, make_client: MakeClient
) -> None:
    sleep = RecordingSleep()
    client = await make_client(
        sleep=sleep,
        backoff_base=0.2,
        now=lambda: http_date_minus(LIMITED_UNTIL, 10),
        rand=lambda: 0.5,
    )
    response = await client.request("GET", "/limited", operation="limited")
    assert response.json == {"ok": True}
    assert sleep.delays == [pytest.approx(10.0 + 0.5 * 0.2)]


async def test_retry_after_is_capped(upstream: Upstream, make_client: MakeClient) -> None:
    upstream.faults.add(Fault("items", FaultMode.STATUS_429, retry_after=3600, count=1))
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, retry_after_max=2.0, rand=lambda: 0.0)
    await client.request("GET", "/items", operation="list_items")
    assert sleep.delays == [2.0]


async def test_classifier_turns_a_throttled_200_into_a_retry(
    upstream: Upstream, make_client: MakeClient
) -> None:
    def throttled(response: HttpResponse) -> Exception | None:
        errors = (response.json or {}).get("errors") or []
        if any(e.get("extensions", {}).get("code") == "THROTTLED" for e in errors):
            return UpstreamRateLimited(
                "shopify throttled", source=Source.SHOPIFY, operation="gql", retry_after=0.5
            )
        return None

    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, classify=throttled, rand=lambda: 0.0)
    response = await client.request(
        "POST", "/graphql", operation="gql", json={"query": "{shop{name}}"}, idempotent=True
    )
    assert response.json == {"data": {"shop": {"name": "tiny"}}}
    assert sleep.delays == [0.5]
    assert client.counter.count("tiny", "gql") == 2


async def test_subclass_hook_can_reject_an_unexpected_shape(
    upstream: Upstream, make_client: MakeClient
) -> None:
    class ShapeChecked(HttpClient):
        def classify(self, response: HttpResponse) -> Exception | None:
            if response.ok and "items" not in (response.json or {}):
                return UpstreamBadResponse("no items", source=self.source, operation="x")
            return None

    client = ShapeChecked(HttpConfig(base_url=upstream.url), source="tiny")
    async with client:
        assert (await client.request("GET", "/items", operation="x")).status == 200
        with pytest.raises(UpstreamBadResponse, match="no items"):
            await client.request("GET", "/items/9", operation="x")


async def test_connection_refused_is_unavailable_and_retried(make_client: MakeClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleep = RecordingSleep()
    client = await make_client(base_url=f"http://127.0.0.1:{port}", sleep=sleep, max_retries=1)
    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        await client.request("GET", "/items", operation="list_items")
    assert client.counter.outcomes() == {"connection_error": 2}
    assert len(sleep.delays) == 1


async def test_counter_separates_connectors_and_operations(
    upstream: Upstream, make_client: MakeClient
) -> None:
    counter = RequestCounter()
    shopify = await make_client(source=Source.SHOPIFY, counter=counter)
    square = await make_client(source=Source.SQUARE, counter=counter)
    await shopify.request("GET", "/items", operation="customers")
    await shopify.request("GET", "/items", operation="customers")
    await shopify.request("GET", "/items/1", operation="orders")
    await square.request("GET", "/items", operation="customers")
    assert counter.count() == 4
    assert counter.count("shopify") == 3
    assert counter.count(Source.SHOPIFY, "customers") == 2
    assert counter.count("square", "customers") == 1
    assert counter.count(operation="customers") == 3
    assert counter.count("klaviyo") == 0
    assert set(counter.snapshot()) == {"shopify", "square"}


async def test_absolute_urls_must_stay_on_the_configured_origin(
    upstream: Upstream, make_client: MakeClient
) -> None:
    client = await make_client()
    response = await client.request("GET", f"{upstream.url}/items/2", operation="next_page")
    assert response.json == {"id": "2"}
    with pytest.raises(ValueError, match="refusing"):
        await client.request("GET", "http://example.invalid/items", operation="next_page")
    assert client.counter.count("tiny", "next_page") == 1


async def test_request_before_start_is_a_programming_error() -> None:
    client = HttpClient(HttpConfig(base_url="http://127.0.0.1:9"), source="tiny")
    assert client.circuit_state() == "closed"
    with pytest.raises(RuntimeError, match=r"start\(\)"):
        await client.request("GET", "/items", operation="list_items")


async def test_logs_name_the_call_but_never_headers_params_or_bodies(
    upstream: Upstream, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.faults.add(Fault("private", FaultMode.STATUS_503, count=1))
    client = await make_client(
        default_headers={"Authorization": f"Bearer {TOKEN}"}, sleep=RecordingSleep()
    )
    with caplog.at_level(logging.DEBUG, logger="omnigate.connectors.http"):
        await client.request(
            "GET", "/private", operation="lookup", params={"email": "bo@example.com"}
        )
    assert "lookup" in caplog.text
    assert "503" in caplog.text
    assert "200" in caplog.text
    assert TOKEN not in caplog.text
    assert "bo@example.com" not in caplog.text
    assert '"ok"' not in caplog.text
