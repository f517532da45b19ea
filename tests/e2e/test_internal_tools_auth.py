"""Every query and mutation field of the internal tools (segments, export, analytics) refuses
storefront and staff tokens with ``FORBIDDEN`` and no data, and no token with
``UNAUTHENTICATED``: one list, so a new field is checked by adding one line. (Subscriptions
are checked beside their own tests, over the WebSocket.)"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Demo
from tests.support import codes

pytestmark = pytest.mark.asyncio(loop_scope="module")

IN_STORE_ONLY = "{ channel: IN_STORE_ONLY }"
#: One operation per field, each valid for an internal token.
OPERATIONS = {
    "customerSegment": f"{{ customerSegment(filter: {IN_STORE_ONLY}) {{ totalCount }} }}",
    "saveSegment": f'mutation {{ saveSegment(name: "x", filter: {IN_STORE_ONLY}) {{ id }} }}',
    "deleteSegment": 'mutation { deleteSegment(id: "x") }',
    "segments": "{ segments { id } }",
    "segment": '{ segment(id: "x") { id } }',
    "analytics": "{ analytics { from loyalty { redeemedPoints } } }",
    "loyaltyFigures": "{ loyaltyFigures { redeemedPoints } }",
}


@pytest.mark.parametrize("token", ["demo-storefront", "demo-staff"])
@pytest.mark.parametrize("field", sorted(OPERATIONS))
async def test_storefront_and_staff_are_forbidden(demo: Demo, token: str, field: str) -> None:
    body = await demo.gql(OPERATIONS[field], token=token)
    assert codes(body) == ["FORBIDDEN"], body
    # A nullable field is nulled in place, a non-null one nulls the whole answer.
    assert body["data"] in (None, {field: None})


@pytest.mark.parametrize("field", sorted(OPERATIONS))
async def test_no_token_is_unauthenticated(demo: Demo, field: str) -> None:
    body = await demo.gql(OPERATIONS[field], token=None)
    assert codes(body) == ["UNAUTHENTICATED"], body


async def test_the_list_names_every_internal_field_of_the_schema(demo: Demo) -> None:
    """The operations above cover each root field whose description says it is for internal
    tokens only, so a new internal field cannot be left out of this file."""
    body = await demo.gql(
        "{ __schema { queryType { fields { name description } }"
        " mutationType { fields { name description } } } }"
    )
    schema = body["data"]["__schema"]
    internal = {
        f["name"]
        for kind in ("queryType", "mutationType")
        for f in schema[kind]["fields"]
        if "Internal tokens only" in (f["description"] or "")
    }
    assert {"analytics", "loyaltyFigures"} <= internal
    assert internal - set(OPERATIONS) <= KNOWN_ELSEWHERE, internal - set(OPERATIONS)


#: Internal-only fields of other issues, checked by their own tests.
KNOWN_ELSEWHERE: set[str] = set()
