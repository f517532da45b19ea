"""Omnigate as a Federation 2 subgraph, proven with the ecosystem's own JavaScript tools:
@apollo/composition composes it with a second subgraph, @apollo/gateway joins the two in one
query, and graphql-ws's client subscribes and resumes. Each is a Node script in this
directory (see its header) run against the demo stack on loopback.

Without ``node`` or ``tests/ecosystem/node_modules`` the tests skip (run
``npm ci --prefix tests/ecosystem``); with ``OMNIGATE_REQUIRE_ECOSYSTEM=1`` (CI) they fail."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from resolvers.stock.live import encode_cursor
from sandboxes.demo.world import StockLevel as DemoStock
from tests.e2e.conftest import Demo, boot

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.ecosystem]

HERE = Path(__file__).parent
FEDERATION_SDL = HERE.parent.parent / "docs" / "schema.federation.graphql"
ROUTER_TOKEN = "ecosystem-router-token"
#: Each script's own deadline, inside pytest-timeout's 60 s: a hung one is killed and its
#: output shown.
SCRIPT_TIMEOUT = 45.0


def node_or_skip() -> str:
    """``node``'s path; without it or the tools, a skip that says how to get them (a failure
    in CI, which must not pass by skipping)."""
    node = shutil.which("node")
    if node is not None and (HERE / "node_modules").is_dir():
        return node
    missing = "node is not on PATH" if node is None else "tests/ecosystem/node_modules is missing"
    reason = f"{missing}: run `npm ci --prefix tests/ecosystem`"
    if os.environ.get("OMNIGATE_REQUIRE_ECOSYSTEM") == "1":
        pytest.fail(f"OMNIGATE_REQUIRE_ECOSYSTEM=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    return node_or_skip()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo(node: str) -> AsyncIterator[Demo]:
    """The demo stack (after the node check, so a skip costs no boot), with a router token
    and the stock warmup, as ``omnigate demo`` runs it: the router reads real levels."""
    async for stack in boot(router_token=ROUTER_TOKEN, stock_warmup=True):
        await stack.app.state.stock_scheduler.warmed.wait()
        yield stack


async def run(node: str, script: str, env: dict[str, str]) -> str:
    """Run ``script`` with ``env`` on top of this process's environment; its output. A
    non-zero exit or a hang fails the test with everything the script printed."""
    proc = await asyncio.create_subprocess_exec(
        node,
        str(HERE / script),
        cwd=HERE,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), SCRIPT_TIMEOUT)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
        pytest.fail(f"{script} did not finish within {SCRIPT_TIMEOUT} s:\n{out.decode()}")
    text = out.decode()
    print(text)  # shown by ``pytest -rP``
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{text}"
    return text


def shopify_kept(demo: Demo, *, skip: int = 0) -> DemoStock:
    """A stocked row at a store whose count only Shopify keeps (its sandbox sends the
    webhook), ``skip`` rows in, so each test moves a SKU of its own."""
    rows = [
        row
        for row in demo.world.stock
        if row.available > 0
        and demo.world.locations_by_code[row.location_code].is_store
        and not demo.world.locations_by_code[row.location_code].square_location_id
    ]
    return rows[skip]


async def a_customer(demo: Demo) -> str:
    body = await demo.gql('{ customerLookup(query: "a", first: 1) { id } }')
    customer_id: str = body["data"]["customerLookup"][0]["id"]
    return customer_id


async def compose(node: str, demo: Demo, out: Path) -> str:
    return await run(
        node,
        "compose.mjs",
        {
            "OMNIGATE_URL": demo.url,
            "ROUTER_TOKEN": ROUTER_TOKEN,
            "SUPERGRAPH": str(out),
            "FEDERATION_SDL_FILE": str(FEDERATION_SDL),
        },
    )


async def test_the_live_subgraph_composes_with_another_without_errors_or_hints(
    node: str, demo: Demo, tmp_path: Path
) -> None:
    out = await compose(node, demo, tmp_path / "supergraph.graphql")
    supergraph = (tmp_path / "supergraph.graphql").read_text()
    assert "without errors or hints" in out
    assert f'@join__graph(name: "omnigate", url: "{demo.url}/graphql")' in supergraph
    for entity, key in [("Customer", "id"), ("ProductVariant", "sku"), ("Location", "id")]:
        assert f'type {entity}\n  @join__type(graph: CONTENT, key: "{key}")' in supergraph


async def test_apollo_gateway_joins_stock_loyalty_and_content_in_one_query(
    node: str, demo: Demo, tmp_path: Path
) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    await compose(node, demo, supergraph)
    row = shopify_kept(demo)
    store = demo.world.locations_by_code[row.location_code]
    out = await run(
        node,
        "join.mjs",
        {
            "SUPERGRAPH": str(supergraph),
            "OMNIGATE_URL": demo.url,
            "TOKEN": "demo-staff",
            "SKU": row.sku,
            "NEAR_LAT": str(store.latitude),
            "NEAR_LNG": str(store.longitude),
            "RADIUS_KM": "500",  # a few stores of the demo's east coast: several locations join
            "CUSTOMER_ID": await a_customer(demo),
        },
    )
    assert "joined through @apollo/gateway" in out


async def test_graphql_ws_gets_a_webhook_change_and_resumes_with_its_cursor(
    node: str, demo: Demo
) -> None:
    row = shopify_kept(demo, skip=1)
    since = encode_cursor(await demo.app.state.services.store.inventory.last_seq())
    out = await run(
        node,
        "subscribe.mjs",
        {
            "OMNIGATE_URL": demo.url,
            "TOKEN": "demo-storefront",
            "SHOPIFY_SANDBOX_URL": demo.stack.sandboxes["shopify"],
            "SKU": row.sku,
            "LOCATION": row.location_code,
            "SINCE": since,
        },
    )
    assert "replayed" in out
    level = await demo.gql(
        "query($sku: String!) { productVariant(sku: $sku) { stock { locationId available } } }",
        variables={"sku": row.sku},
    )
    moved = [s["available"] for s in level["data"]["productVariant"]["stock"]]
    assert row.available + 3 in moved  # three webhooks, one unit each, all applied
