"""The error taxonomy: one GraphQL code per class, safe attributes for the error policy."""

from __future__ import annotations

import pytest

from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.records import Source


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (UpstreamUnavailable, "UPSTREAM_UNAVAILABLE"),
        (UpstreamRateLimited, "UPSTREAM_RATE_LIMITED"),
        (UpstreamBadResponse, "UPSTREAM_BAD_RESPONSE"),
        (UpstreamAuthError, "UPSTREAM_AUTH_ERROR"),
    ],
)
def test_each_kind_has_its_code_and_keeps_its_context(kind: type[UpstreamError], code: str) -> None:
    error = kind("square customers: HTTP 503", source=Source("square"), operation="customers")
    assert isinstance(error, UpstreamError)
    assert error.code == code
    assert error.source == "square"
    assert error.operation == "customers"
    assert error.status is None
    assert str(error) == "square customers: HTTP 503"


def test_rate_limited_carries_the_servers_hint_and_status() -> None:
    error = UpstreamRateLimited(
        "klaviyo profiles: rate limited",
        source="klaviyo",
        operation="profiles",
        status=429,
        retry_after=2.5,
    )
    assert (error.status, error.retry_after) == (429, 2.5)
    assert UpstreamRateLimited("x", source="k", operation="o").retry_after is None
