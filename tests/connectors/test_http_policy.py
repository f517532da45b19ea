"""The shared HTTP client's policy, in-process: retries, ``Retry-After``, the circuit breaker,
error classification, counting and logging, against the tiny vendor behind a
:class:`~connectors.transport.MockTransport`. No socket, no real waiting: backoffs are read
from a recording ``sleep`` and the breaker runs on a fake clock. The real wire (timeouts,
refused connections, malformed bodies, the pool) is proved in ``test_http.py`` and
``test_http_pool.py``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

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
from connectors.transport import (
    ConnectionFailed,
    ConnectTimeout,
    MockTransport,
    RawResponse,
    Request,
    TransportError,
)
from tests.connectors.conftest import (
    LIMITED_UNTIL,
    TOKEN,
    FakeClock,
    RecordingSleep,
    http_date_minus,
)
from tests.connectors.tiny import BASE_URL, MakeClient, TinyVendor, tiny_client, tiny_clients


@pytest.fixture
def vendor() -> TinyVendor:
    return TinyVendor()


@pytest.fixture
async def make_client(vendor: TinyVendor) -> AsyncIterator[MakeClient]:
    async with tiny_clients(vendor) as make:
        yield make


# --- the circuit ---------------------------------------------------------------------------


async def test_burst_of_500s_opens_circuit_then_a_success_after_reset_closes_it(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    clock = FakeClock()
    client = await make_client(breaker_failures=3, breaker_reset=30.0, clock=clock)
    vendor.fail("items", 500)

    for _ in range(3):
        with pytest.raises(UpstreamUnavailable) as failed:
            await client.request("GET", "/items", operation="list_items")
        assert failed.value.status == 500
    assert client.circuit_state() == "open"
    assert vendor.seen("items") == 3
    assert client.counter.retries() == 0  # 500 is not retried

    for _ in range(2):
        with pytest.raises(UpstreamUnavailable, match="circuit open"):
            await client.request("GET", "/items", operation="list_items")
    assert vendor.seen("items") == 3
    assert client.counter.count("tiny", "list_items") == 3
    assert client.counter.rejected("tiny", "list_items") == 2

    vendor.clear()
    clock.advance(29.9)
    with pytest.raises(UpstreamUnavailable, match="circuit open"):
        await client.request("GET", "/items", operation="list_items")
    clock.advance(0.1)
    assert client.circuit_state() == "half_open"
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert client.circuit_state() == "closed"
    assert vendor.seen("items") == 4


async def test_failed_half_open_trial_reopens_circuit(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    clock = FakeClock()
    client = await make_client(breaker_failures=1, breaker_reset=10.0, clock=clock, max_retries=0)
    vendor.fail("items", 503)
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items")
    clock.advance(10)
    with pytest.raises(UpstreamUnavailable) as trial:
        await client.request("GET", "/items", operation="list_items")
    assert trial.value.status == 503
    assert client.circuit_state() == "open"
    assert vendor.seen("items") == 2


async def test_a_retry_loop_that_opens_the_circuit_stops_with_the_real_error(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    vendor.fail("items", 503)
    sleep = RecordingSleep()
    client = await make_client(breaker_failures=2, max_retries=3, sleep=sleep)
    with pytest.raises(UpstreamUnavailable) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.status == 503  # not "circuit open"
    assert len(sleep.delays) == 1  # no backoff wasted once the circuit is open
    assert vendor.seen("items") == 2
    assert client.circuit_state() == "open"


async def test_a_cancelled_half_open_trial_frees_the_slot(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    clock = FakeClock()
    client = await make_client(breaker_failures=1, breaker_reset=5.0, clock=clock)
    vendor.fail("items", 500, count=1)
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items")
    vendor.hang("items")
    clock.advance(5)
    vendor.arrived.clear()
    trial = asyncio.create_task(client.request("GET", "/items", operation="list_items"))
    await vendor.arrived.wait()  # the trial took the half-open slot and is on the wire
    assert not client.breaker.allow()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert client.circuit_state() == "half_open"
    assert client.breaker.allow()
    assert client.counter.outcomes("tiny", "list_items") == {"500": 1, "cancelled": 1}


async def test_client_errors_and_rate_limits_never_open_the_circuit(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    client = await make_client(breaker_failures=2, max_retries=0)
    vendor.fail("items", 429, retry_after=0)
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


# --- what an answer means --------------------------------------------------------------------


async def test_401_and_403_are_auth_errors_and_not_retried(
    vendor: TinyVendor, make_client: MakeClient
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


async def test_other_4xx_is_a_bad_response(vendor: TinyVendor, make_client: MakeClient) -> None:
    client = await make_client()
    with pytest.raises(UpstreamBadResponse) as failed:
        await client.request("GET", "/missing", operation="missing")
    assert failed.value.status == 404
    assert client.counter.count() == 1


async def test_classifier_turns_a_throttled_200_into_a_retry(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    def throttled(response: HttpResponse) -> Exception | None:
        errors = (response.json or {}).get("errors") or []
        if any(e.get("extensions", {}).get("code") == "THROTTLED" for e in errors):
            return UpstreamRateLimited(
                "shopify throttled", source=Source("shopify"), operation="gql", retry_after=0.5
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


async def test_subclass_hook_can_reject_an_unexpected_shape(vendor: TinyVendor) -> None:
    class ShapeChecked(HttpClient):
        def classify(self, response: HttpResponse) -> Exception | None:
            if response.ok and "items" not in (response.json or {}):
                return UpstreamBadResponse("no items", source=self.source, operation="x")
            return None

    client = ShapeChecked(
        HttpConfig(base_url=BASE_URL), source="tiny", transport=MockTransport(vendor.handle)
    )
    async with client:
        assert (await client.request("GET", "/items", operation="x")).status == 200
        with pytest.raises(UpstreamBadResponse, match="no items"):
            await client.request("GET", "/items/9", operation="x")


async def test_a_classified_outage_is_retried_and_counts_against_the_circuit(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    def outage(response: HttpResponse) -> Exception | None:
        if (response.json or {}).get("items"):
            return UpstreamUnavailable("in maintenance", source="tiny", operation="x")
        return None

    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, classify=outage, max_retries=2, breaker_failures=10)
    with pytest.raises(UpstreamUnavailable, match="in maintenance"):
        await client.request("GET", "/items", operation="x")
    assert len(sleep.delays) == 2
    assert client.breaker.failures == 3


# --- which calls are retried, and how long it waits -------------------------------------------


async def test_post_is_retried_only_when_the_caller_says_it_is_idempotent(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep)
    vendor.fail("orders", 503, count=2)

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
    assert vendor.seen("orders") == 3


async def test_get_is_not_retried_when_the_caller_opts_out(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    vendor.fail("items", 503, count=1)
    client = await make_client(sleep=RecordingSleep())
    with pytest.raises(UpstreamUnavailable):
        await client.request("GET", "/items", operation="list_items", idempotent=False)
    assert vendor.seen("items") == 1


async def test_backoff_uses_full_jitter_bounded_by_the_exponential_ceiling(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    vendor.fail("items", 502, count=3)
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, max_retries=3, backoff_base=0.1, backoff_max=0.25)
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert len(sleep.delays) == 3
    for retry, delay in enumerate(sleep.delays):
        assert 0.0 <= delay <= min(0.25, 0.1 * 2**retry)
    assert client.counter.retries("tiny", "list_items") == 3


async def test_exhausted_retries_raise_the_last_error(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    vendor.fail("items", 504)
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


async def test_429_with_retry_after_waits_for_it_then_succeeds(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    """The loopback twin (``test_http.py``) waits for it in real time."""
    vendor.fail("items", 429, retry_after=1, count=1)
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, rand=lambda: 0.5, backoff_base=0.2)
    response = await client.request("GET", "/items", operation="list_items")
    assert response.status == 200
    assert sleep.delays == [pytest.approx(1.0 + 0.5 * 0.2)]
    assert client.counter.count("tiny", "list_items") == 2
    assert client.counter.retries("tiny", "list_items") == 1
    assert client.counter.outcomes("tiny", "list_items") == {"429": 1, "200": 1}
    assert vendor.seen("items") == 2


async def test_rate_limit_after_retries_carries_the_servers_hint(
    vendor: TinyVendor, make_client: MakeClient
) -> None:
    vendor.fail("items", 429, retry_after=7)
    client = await make_client(max_retries=0)
    with pytest.raises(UpstreamRateLimited) as failed:
        await client.request("GET", "/items", operation="list_items")
    assert failed.value.retry_after == 7
    assert failed.value.code == "UPSTREAM_RATE_LIMITED"
    assert failed.value.status == 429


async def test_retry_after_as_http_date_is_the_minimum_wait(
    vendor: TinyVendor, make_client: MakeClient
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


async def test_retry_after_is_capped(vendor: TinyVendor, make_client: MakeClient) -> None:
    vendor.fail("items", 429, retry_after=3600, count=1)
    sleep = RecordingSleep()
    client = await make_client(sleep=sleep, retry_after_max=2.0, rand=lambda: 0.0)
    await client.request("GET", "/items", operation="list_items")
    assert sleep.delays == [2.0]


# --- wire failures as the transport reports them -----------------------------------------------


async def test_a_refused_connection_reported_by_the_transport_is_unavailable_and_retried() -> None:
    def refuse(request: Request) -> RawResponse:
        raise ConnectionFailed("ClientConnectorError")

    sleep = RecordingSleep()
    client = HttpClient(
        HttpConfig(base_url=BASE_URL, max_retries=1),
        source="tiny",
        counter=RequestCounter(),
        sleep=sleep,
        transport=MockTransport(refuse),
    )
    async with client:
        with pytest.raises(UpstreamUnavailable, match="connection failed"):
            await client.request("GET", "/items", operation="list_items")
    assert client.counter.outcomes() == {"connection_error": 2}
    assert len(sleep.delays) == 1
    assert client.breaker.failures == 2


async def test_a_connect_timeout_is_unavailable_and_a_failure_for_the_circuit() -> None:
    def slow_to_accept(request: Request) -> RawResponse:
        raise ConnectTimeout("ConnectionTimeoutError")

    client = HttpClient(
        HttpConfig(base_url=BASE_URL, max_retries=0, breaker_failures=1),
        source="tiny",
        counter=RequestCounter(),
        transport=MockTransport(slow_to_accept),
    )
    async with client:
        with pytest.raises(UpstreamUnavailable, match="connect timed out"):
            await client.request("GET", "/items", operation="list_items")
    assert client.counter.outcomes() == {"timeout": 1}
    assert client.circuit_state() == "open"


async def test_a_request_that_cannot_be_made_is_a_bad_response_and_says_nothing_of_health() -> None:
    def unsendable(request: Request) -> RawResponse:
        raise TransportError("InvalidUrlClientError")

    sleep = RecordingSleep()
    client = HttpClient(
        HttpConfig(base_url=BASE_URL, breaker_failures=1),
        source="tiny",
        counter=RequestCounter(),
        sleep=sleep,
        transport=MockTransport(unsendable),
    )
    async with client:
        with pytest.raises(UpstreamBadResponse, match=r"request failed \(InvalidUrlClientError\)"):
            await client.request("GET", "/items", operation="list_items")
    assert client.counter.outcomes() == {"client_error": 1}
    assert sleep.delays == []
    assert client.circuit_state() == "closed"


# --- what is sent, counted and logged ------------------------------------------------------------


async def test_default_headers_are_sent_and_a_calls_own_header_replaces_one_of_any_case() -> None:
    seen: list[Request] = []

    def record(request: Request) -> RawResponse:
        seen.append(request)
        return RawResponse.of_json({"ok": True})

    client = HttpClient(
        HttpConfig(base_url=BASE_URL, default_headers={"X-Token": "t", "Accept": "text/plain"}),
        source="tiny",
        transport=MockTransport(record),
    )
    async with client:
        await client.request("GET", "/a", operation="a")
        await client.request("GET", "/b", operation="b", headers={"accept": "application/json"})
    assert dict(seen[0].headers) == {"X-Token": "t", "Accept": "text/plain"}
    assert dict(seen[1].headers) == {"X-Token": "t", "accept": "application/json"}
    assert [str(r.url) for r in seen] == [f"{BASE_URL}/a", f"{BASE_URL}/b"]


async def test_counter_separates_connectors_and_operations(make_client: MakeClient) -> None:
    counter = RequestCounter()
    shopify = await make_client(source=Source("shopify"), counter=counter)
    square = await make_client(source=Source("square"), counter=counter)
    await shopify.request("GET", "/items", operation="customers")
    await shopify.request("GET", "/items", operation="customers")
    await shopify.request("GET", "/items/1", operation="orders")
    await square.request("GET", "/items", operation="customers")
    assert counter.count() == 4
    assert counter.count("shopify") == 3
    assert counter.count(Source("shopify"), "customers") == 2
    assert counter.count("square", "customers") == 1
    assert counter.count(operation="customers") == 3
    assert counter.count("klaviyo") == 0
    assert set(counter.snapshot()) == {"shopify", "square"}


async def test_absolute_urls_must_stay_on_the_configured_origin(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.request("GET", f"{BASE_URL}/items/2", operation="next_page")
    assert response.json == {"id": "2"}
    with pytest.raises(ValueError, match="refusing"):
        await client.request("GET", "http://example.invalid/items", operation="next_page")
    assert client.counter.count("tiny", "next_page") == 1


async def test_request_before_start_is_a_programming_error(vendor: TinyVendor) -> None:
    client = tiny_client(vendor)
    assert client.circuit_state() == "closed"
    with pytest.raises(RuntimeError, match=r"start\(\)"):
        await client.request("GET", "/items", operation="list_items")


async def test_logs_name_the_call_but_never_headers_params_or_bodies(
    vendor: TinyVendor, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    vendor.fail("private", 503, count=1)
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
