"""A call waiting for a slot in Klaviyo's rate-limit windows waits only as long as the work's
deadline allows."""

from __future__ import annotations

import pytest

from connectors import deadline
from connectors.errors import UpstreamTimeout
from connectors.http import HttpClient, HttpConfig
from connectors.klaviyo.client import KlaviyoClient
from connectors.klaviyo.ratelimit import Pacers, RateLimit
from connectors.metrics import RequestCounter


async def test_the_wait_for_a_rate_limit_slot_ends_at_the_deadline() -> None:
    counter = RequestCounter()
    http = HttpClient(HttpConfig(base_url="http://127.0.0.1:1"), source="klaviyo", counter=counter)
    client = KlaviyoClient(http, pacers=Pacers({"get_profiles": RateLimit(1, 60)}))
    pacer = client.pacers.for_operation("get_profiles")
    await pacer.acquire()  # the one slot is taken, and stays taken

    with deadline.within(0.05), pytest.raises(UpstreamTimeout, match="rate-limit slot"):
        await client.call("GET", "/api/profiles", operation="get_profiles")
    assert pacer.in_flight == 1  # the abandoned wait took no slot
    assert counter.count() == 0
