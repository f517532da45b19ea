"""A vendor is one package: Lightspeed, a POS defined only in ``tests/vendors/lightspeed/``
(customers, signed webhooks, a local fake), joins the gateway by one registration line,
``register(LIGHTSPEED)``, with no product module edited for it.

The whole demo stack then boots with it (its fake started beside the built-in sandboxes, its
settings pointed there, its connector built), and it is in ``health``, in a sync, in a
customer's ``identities`` (joined by email with a Shopify customer) and in the schema's
``Source`` enum; a signed webhook from it changes a profile. ``test_vendor_names.py`` fails if
any code outside ``tests/`` names it, so the gateway cannot have been taught about it by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from connectors import vendors as registry
from connectors.records import Source
from gateway.settings import Settings, reference_table
from resolvers.customers.sync import sync_customers
from tests.e2e.conftest import Demo, boot
from tests.vendors.lightspeed import VENDOR as LIGHTSPEED
from tests.vendors.lightspeed.sandbox import LONE_EMAIL, shared_customer

pytestmark = pytest.mark.asyncio(loop_scope="module")

CUSTOMER = """
query($id: ID!) {
  customer(id: $id) { id emails phones identities { source id } }
}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Demo]:
    registry.register(LIGHTSPEED)  # the one line that adds the vendor
    try:
        async for stack in boot():
            yield stack
    finally:
        registry.unregister(LIGHTSPEED)


async def profile_of(demo: Demo, source: Source, source_id: str) -> str:
    found = await demo.app.state.services.store.identities.get_identities([(source, source_id)])
    assert (source, source_id) in found, f"{source}:{source_id} is linked to no profile"
    return found[(source, source_id)].profile_id


def shopify_id(demo: Demo) -> str:
    return f"gid://shopify/Customer/{shared_customer(demo.world).id}"


async def test_it_is_in_health_with_its_capabilities(demo: Demo) -> None:
    body = await demo.gql("{ health { connectors { name circuit capabilities } } }")
    connectors = {c["name"]: c for c in body["data"]["health"]["connectors"]}
    assert list(connectors) == ["shopify", "square", "klaviyo", "lightspeed"]
    assert connectors["lightspeed"] == {
        "name": "lightspeed",
        "circuit": "CLOSED",
        "capabilities": ["customers"],
    }


async def test_a_sync_reads_its_customers(demo: Demo) -> None:
    summary = await sync_customers(demo.app.state.services)
    assert summary.records["lightspeed"] == 2  # two pages of one, both read
    assert not summary.failed_sources


async def test_its_customer_joins_a_shopify_customer_by_email(demo: Demo) -> None:
    twin = shared_customer(demo.world)
    profile_id = await profile_of(demo, Source("lightspeed"), "LS-1")
    assert profile_id == await profile_of(demo, Source("shopify"), shopify_id(demo))

    customer = (await demo.gql(CUSTOMER, variables={"id": profile_id}))["data"]["customer"]
    assert {"source": "LIGHTSPEED", "id": "LS-1"} in customer["identities"]
    assert {"source": "SHOPIFY", "id": shopify_id(demo)} in customer["identities"]
    assert twin.email.lower() in customer["emails"]


async def test_its_customer_known_nowhere_else_has_a_profile_of_its_own(demo: Demo) -> None:
    profile_id = await profile_of(demo, Source("lightspeed"), "LS-2")
    customer = (await demo.gql(CUSTOMER, variables={"id": profile_id}))["data"]["customer"]
    assert customer["identities"] == [{"source": "LIGHTSPEED", "id": "LS-2"}]
    assert customer["emails"] == [LONE_EMAIL]


async def test_its_signed_webhook_changes_the_profile(demo: Demo) -> None:
    profile_id = await profile_of(demo, Source("lightspeed"), "LS-1")
    before = (await demo.gql(CUSTOMER, variables={"id": profile_id}))["data"]["customer"]
    assert "+16175550142" not in before["phones"]

    # The fake changes its customer and delivers the signed customer.updated webhook to
    # /webhooks/lightspeed, answering with the gateway's reply once it is applied.
    delivered = await demo.control(
        "lightspeed", "POST", "/_sandbox/customers/LS-1", json={"phone": "+1 617 555 0142"}
    )
    assert delivered["status"] == 200, delivered

    after = (await demo.gql(CUSTOMER, variables={"id": profile_id}))["data"]["customer"]
    assert "+16175550142" in after["phones"]
    assert {"source": "LIGHTSPEED", "id": "LS-1"} in after["identities"]


async def test_a_forged_webhook_from_it_is_refused(demo: Demo) -> None:
    async with demo.http.post(
        f"{demo.url}/webhooks/lightspeed",
        data=b'{"event_id": "x", "customer": {"id": "LS-2", "email": "evil@example.com"}}',
        headers={"x-lightspeed-signature": "Zm9yZ2Vk", "x-lightspeed-topic": "customer.updated"},
    ) as resp:
        assert resp.status == 401


async def test_its_settings_and_enum_value_come_from_its_declaration(demo: Demo) -> None:
    settings = demo.app.state.settings
    assert settings.vendor("lightspeed").base_url == demo.stack.sandboxes["lightspeed"]
    assert Settings(_env_file=None).identity_limits["lightspeed"] == 1  # type: ignore[call-arg]
    assert "`OMNIGATE_LIGHTSPEED_API_KEY`" in reference_table()
    assert "  LIGHTSPEED\n" in demo.app.state.schema.as_str()
