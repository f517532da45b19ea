"""Customer 360 over the whole stack: warm lookups, faults served from cache, privacy,
erasure."""

from __future__ import annotations

from datetime import timedelta

from connectors.records import Source
from gateway.auth import Authenticator
from resolvers.customers.service import utcnow
from tests.e2e.conftest import Demo
from tests.support import codes

CUSTOMER = """
query($id: ID!) {
  customer(id: $id) {
    id displayName emails phones
    identities { source id }
    stats {
      lifetimeValue { amount currencyCode } orderCount isOmnichannel
      online { orderCount } inStore { orderCount } favouriteLocation { id name }
    }
    orders(first: 5) {
      totalCount
      edges { node { channel source location { id } total { amount } } }
    }
    cache { stale refreshedAt sources { source ok code } }
  }
}
"""


async def omnichannel_person(demo: Demo) -> tuple[str, str]:
    """A profile with orders in both channels, and its email."""
    store = demo.app.state.services.store
    for q in demo.world.quirks.upper_case_email:
        found = await store.identities.get_identities([(Source("square"), q.square_customer_id)])
        return found[(Source("square"), q.square_customer_id)].profile_id, q.email
    raise AssertionError("the dataset has no upper-case-email quirk")


async def test_warm_lookup_makes_no_upstream_call(fresh_demo: Demo) -> None:
    demo = fresh_demo
    pid, email = await omnichannel_person(demo)
    before = demo.calls()
    for query in (email, email.upper(), "  " + email + " "):
        body = await demo.gql(
            "query($q: String!) { customerLookup(query: $q) { id displayName cache { stale } } }",
            token="demo-staff",
            variables={"q": query},
        )
        assert [c["id"] for c in body["data"]["customerLookup"]] == [pid]
        assert body["data"]["customerLookup"][0]["cache"]["stale"] is False
    assert demo.calls() == before


async def test_customer_360_across_channels(fresh_demo: Demo) -> None:
    pid, email = await omnichannel_person(fresh_demo)
    body = await fresh_demo.gql(CUSTOMER, variables={"id": pid})
    assert "errors" not in body, body
    customer = body["data"]["customer"]
    assert email in customer["emails"]
    assert {i["source"] for i in customer["identities"]} >= {"SHOPIFY", "SQUARE"}
    assert customer["stats"]["orderCount"] == customer["orders"]["totalCount"]
    assert all(s["ok"] for s in customer["cache"]["sources"])


async def test_shopify_down_serves_cache_stale_with_an_error(fresh_demo: Demo) -> None:
    demo = fresh_demo
    pid, _ = await omnichannel_person(demo)
    await demo.control("shopify", "POST", "/_sandbox/faults", json={"route": "*", "mode": "500"})
    service = demo.app.state.services.customers
    service.clock = lambda: utcnow() + timedelta(days=1)  # everything is now stale

    first = await demo.gql(CUSTOMER, variables={"id": pid})
    assert first["data"]["customer"]["cache"]["stale"] is True
    await service.wait_idle()  # the background refresh has met the fault

    body = await demo.gql(CUSTOMER, variables={"id": pid})
    customer = body["data"]["customer"]
    assert customer["cache"]["stale"] is True
    assert customer["stats"]["orderCount"] > 0  # cached data, all of it
    shopify = next(s for s in customer["cache"]["sources"] if s["source"] == "SHOPIFY")
    assert shopify == {"source": "SHOPIFY", "ok": False, "code": "UPSTREAM_UNAVAILABLE"}
    errors = body["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["UPSTREAM_UNAVAILABLE"]
    assert errors[0]["extensions"]["source"] == "shopify"
    assert errors[0]["path"] == ["customer"]


async def test_storefront_token_gets_no_pii_anywhere(fresh_demo: Demo) -> None:
    demo = fresh_demo
    pid, email = await omnichannel_person(demo)
    for query, variables in (
        (CUSTOMER, {"id": pid}),
        ("query($q: String!) { customerLookup(query: $q) { id emails } }", {"q": email}),
        ("query($id: ID!) { mergeCustomers(ids: [$id, $id]) { id } }", {"id": pid}),
        (
            "query($reps: [_Any!]!) { _entities(representations: $reps) "
            "{ ... on Customer { emails } } }",
            {"reps": [{"__typename": "Customer", "id": pid}]},
        ),
        ("{ viewer { customer { emails } } }", None),
    ):
        body = await demo.gql(query, token="demo-storefront", variables=variables)
        assert email not in str(body), query
        assert "+1" not in str(body.get("data")), query


async def test_viewer_reads_its_own_customer_with_a_signed_token(fresh_demo: Demo) -> None:
    demo = fresh_demo
    pid, email = await omnichannel_person(demo)
    auth: Authenticator = demo.app.state.authenticator
    token = auth.issue_customer_token(pid)
    query = "{ viewer { customer { id emails orders(first: 3) { totalCount } } } }"
    body = await demo.gql(query, token="demo-storefront", headers={"X-Customer-Token": token})
    assert "errors" not in body, body
    assert body["data"]["viewer"]["customer"]["id"] == pid
    assert email in body["data"]["viewer"]["customer"]["emails"]

    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    body = await demo.gql(
        query, token="demo-storefront", headers={"X-Customer-Token": forged}, status=401
    )
    assert codes(body) == ["UNAUTHENTICATED"]
    assert email not in str(body)


async def test_erase_customer_leaves_no_trace(fresh_demo: Demo) -> None:
    demo = fresh_demo
    pid, email = await omnichannel_person(demo)
    body = await demo.gql(
        "mutation($id: ID!) { eraseCustomer(id: $id) { customerId identitiesErased } }",
        variables={"id": pid},
    )
    assert body["data"]["eraseCustomer"]["identitiesErased"] >= 2
    lookup = await demo.gql(
        "query($q: String!) { customerLookup(query: $q) { id } }", variables={"q": email}
    )
    assert lookup["data"]["customerLookup"] == []
    gone = await demo.gql(CUSTOMER, variables={"id": pid})
    assert gone["data"]["customer"] is None
    store = demo.app.state.services.store
    assert await store.profiles.get_profiles([pid]) == {}
    assert await store.identities.find_identities(emails=[email]) == []
    assert await store.identities.merge_log(pid) == []


async def test_bad_input_gets_codes_not_500s(fresh_demo: Demo) -> None:
    demo = fresh_demo
    pid, _ = await omnichannel_person(demo)
    for arguments in ("first: 1000", 'after: "!!!"', "first: -1"):
        query = (
            f"query($id: ID!) {{ customer(id: $id) {{ orders({arguments}) {{ totalCount }} }} }}"
        )
        body = await demo.gql(query, variables={"id": pid})
        assert "BAD_USER_INPUT" in codes(body), (query, body)
    body = await demo.gql('{ customerLookup(query: "x", first: 101) { id } }')
    assert codes(body) == ["BAD_USER_INPUT"]
    body = await demo.gql('mutation { unmergeCustomer(id: "cus_nope") { id } }')
    assert codes(body) == ["BAD_USER_INPUT"]
    body = await demo.gql('mutation { mergeCustomers(ids: ["cus_nope", "cus_nada"]) { id } }')
    assert codes(body) == ["NOT_FOUND"]


async def test_fifty_cold_360s_make_one_call_per_source_and_kind(fresh_demo: Demo) -> None:
    """One query building 50 uncached profiles reads each source once per kind of data
    (plus pages), not once per customer: the per-request DataLoaders batch them."""
    demo = fresh_demo
    store = demo.app.state.services.store
    found = {
        p.id
        for letter in "abcdefghijklmnopqrstuvwxyz"
        for p in await store.profiles.find_profiles(name_prefix=letter, limit=1000)
    }
    ids = sorted(found)[:50]
    assert len(ids) == 50
    for pid in ids:
        await store.profiles.delete_profile(pid)
    demo.app.state.counter.reset()
    body = await demo.gql(
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Customer "
        "{ id stats { orderCount } marketing { lastOpenedAt } orders(first: 3) { totalCount } "
        "} } }",
        variables={"reps": [{"__typename": "Customer", "id": pid} for pid in ids]},
    )
    assert "errors" not in body, body
    assert len(body["data"]["_entities"]) == 50
    calls = {
        (connector, operation): stats["requests"]
        for connector, operations in demo.app.state.counter.snapshot().items()
        for operation, stats in operations.items()
    }
    single = {
        ("shopify", "customers_by_ids"),
        ("square", "customers.bulk_retrieve"),
        ("klaviyo", "get_profiles"),
    }
    for key in single:
        assert calls.get(key) == 1, calls
    # Order searches page (25 orders a page at Shopify, 10 customer ids a call at Square).
    assert sum(calls.values()) <= 20, calls
