"""Square wire behaviour: cursors, the error body mapped to the taxonomy, 429 backoff."""

from __future__ import annotations

import pytest

from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.http import HttpConfig, HttpResponse
from connectors.square.errors import classify, current_operation
from sandboxes.base.faults import FAULTS, Fault, FaultMode
from tests.connectors.square.conftest import MakeSquare, SquareEnv


async def test_cursor_pagination_repeats_the_same_body(make_square: MakeSquare) -> None:
    env = await make_square(page_size_cap=10)
    pages = [page async for page in env.connector.client.search_customers({})]
    total = len(env.world.square_customers)
    assert len(pages) == -(-total // 10)
    assert sum(len(p["customers"]) for p in pages) == total
    assert "cursor" not in pages[-1]
    requests = [e.request for e in env.api_exchanges()]
    assert "cursor" not in requests[0]
    for previous, request, page in zip(requests, requests[1:], pages, strict=False):
        assert request == {**requests[0], "cursor": page["cursor"]}
        assert previous is not None


async def test_a_changed_body_with_an_old_cursor_is_refused(make_square: MakeSquare) -> None:
    env = await make_square(page_size_cap=5)
    first = await env.connector.client.call(
        "POST", "/v2/customers/search", operation="customers.search", body={"limit": 100}
    )
    with pytest.raises(UpstreamBadResponse) as caught:
        await env.connector.client.call(
            "POST",
            "/v2/customers/search",
            operation="customers.search",
            body={"limit": 50, "cursor": first["cursor"]},
        )
    assert "INVALID_CURSOR" in str(caught.value)
    assert caught.value.operation == "customers.search"
    assert caught.value.status == 400


async def test_a_bad_token_is_an_auth_error(make_square: MakeSquare) -> None:
    env = await make_square(access_token="EAAA-wrong")
    with pytest.raises(UpstreamAuthError) as caught:
        await env.connector.list_locations()
    assert "AUTHENTICATION_ERROR/UNAUTHORIZED" in str(caught.value)
    assert caught.value.status == 401
    assert env.calls("locations.list") == 1  # never retried


async def test_square_limits_are_enforced_and_reported(square: SquareEnv) -> None:
    """The sandbox refuses what Square refuses; the error names Square's code and field but
    never echoes ``detail`` (which can quote request data)."""
    ids = [loc.square_location_id for loc in square.world.locations if loc.square_location_id]
    body = {"location_ids": ids * 6, "query": {}}
    with pytest.raises(UpstreamBadResponse) as caught:
        await square.connector.client.call(
            "POST", "/v2/orders/search", operation="orders.search", body=body
        )
    message = str(caught.value)
    assert "INVALID_REQUEST_ERROR/ARRAY_LENGTH_TOO_LONG (field location_ids)" in message
    assert "at most" not in message
    with pytest.raises(ValueError, match="10 location ids"):
        square.connector.client.search_orders(location_ids=ids * 6)


async def test_429_is_retried_after_retry_after_with_jitter(square: SquareEnv) -> None:
    square.app[FAULTS].add(
        Fault(route="square.locations.list", mode=FaultMode.STATUS_429, retry_after=2, count=2)
    )
    locations = await square.connector.list_locations()
    assert len(locations) == 2
    assert square.calls("locations.list") == 3
    assert square.counter.retries("square", "locations.list") == 2
    delays = square.sleep.delays
    assert len(delays) == 2
    assert all(2.0 <= d < 2.0 + 0.2 * 2**i for i, d in enumerate(delays))


async def test_persistent_429_surfaces_as_rate_limited(make_square: MakeSquare) -> None:
    env = await make_square()
    env.app[FAULTS].add(Fault(route="*", mode=FaultMode.STATUS_429, retry_after=1))
    with pytest.raises(UpstreamRateLimited) as caught:
        await env.connector.get_customers(["A"])
    assert caught.value.retry_after == 1.0
    assert "RATE_LIMIT_ERROR/RATE_LIMITED" in str(caught.value)
    assert env.calls("customers.bulk_retrieve") == 1 + HttpConfig(base_url="x").max_retries


async def test_503_is_unavailable_and_feeds_the_breaker(make_square: MakeSquare) -> None:
    env = await make_square()
    env.app[FAULTS].add(Fault(route="*", mode=FaultMode.STATUS_503))
    with pytest.raises(UpstreamUnavailable):
        await env.connector.list_locations()
    assert env.connector.http.breaker.failures == 1 + HttpConfig(base_url="x").max_retries


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status=status, headers=headers or {}, text="", json=body, elapsed=0.0)


def test_classify_maps_the_square_error_body() -> None:
    token = current_operation.set("customers.bulk_retrieve")
    try:
        ok = _response(200, {"responses": {}})
        assert classify(ok) is None
        assert classify(_response(200, {"errors": []})) is None
        top_level = classify(
            _response(200, {"errors": [{"category": "API_ERROR", "code": "INTERNAL_SERVER_ERROR"}]})
        )
        assert isinstance(top_level, UpstreamBadResponse)
        expired = classify(
            _response(
                401,
                {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "ACCESS_TOKEN_EXPIRED"}]},
            )
        )
        assert isinstance(expired, UpstreamAuthError)
        assert "ACCESS_TOKEN_EXPIRED" in str(expired)
        assert expired.operation == "customers.bulk_retrieve"
        scopes = classify(
            _response(403, {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "FORBIDDEN"}]})
        )
        assert isinstance(scopes, UpstreamAuthError)
        limited = classify(
            _response(
                429,
                {"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED"}]},
                {"Retry-After": "3"},
            )
        )
        assert isinstance(limited, UpstreamRateLimited)
        assert limited.retry_after == 3.0
        not_json = classify(_response(404, None))
        assert isinstance(not_json, UpstreamBadResponse)
        assert "HTTP 404" in str(not_json)
        # 5xx keep the shared client's retry policy.
        assert classify(_response(503, {"errors": [{"category": "API_ERROR"}]})) is None
    finally:
        current_operation.reset(token)
