from __future__ import annotations

import jwt

from gateway.auth import Authenticator
from gateway.settings import TokenGrant
from resolvers.viewer import Role

SECRET = "test-secret-test-secret-test-secret-1234"


def make() -> Authenticator:
    return Authenticator(
        {
            "sf": TokenGrant(role="storefront"),
            "st": TokenGrant(role="staff", locations=["loc-1", "loc-2"]),
            "in": TokenGrant(role="internal"),
        },
        SECRET,
    )


def test_tokens_map_to_roles_and_locations() -> None:
    auth = make()
    assert auth.viewer("Bearer sf").role is Role.STOREFRONT
    staff = auth.viewer("Bearer st")
    assert staff.role is Role.STAFF
    assert staff.works_at("loc-1")
    assert not staff.works_at("loc-3")
    assert auth.viewer("bearer in").role is Role.INTERNAL


def test_missing_malformed_or_unknown_tokens_are_anonymous() -> None:
    auth = make()
    for header in (None, "", "Bearer", "Basic sf", "Bearer nope", "sf"):
        assert auth.viewer(header).role is Role.ANONYMOUS


def test_customer_token_signed_with_the_secret_names_the_customer() -> None:
    auth = make()
    token = auth.issue_customer_token("cus_123")
    viewer = auth.viewer("Bearer sf", token)
    assert viewer.customer_id == "cus_123"


def test_forged_or_expired_customer_token_names_nobody() -> None:
    auth = make()
    forged = jwt.encode({"sub": "cus_123"}, "another-secret-another-secret-12", algorithm="HS256")
    expired = jwt.encode({"sub": "cus_123", "exp": 1}, SECRET, algorithm="HS256")
    for token in (forged, expired, "not-a-jwt"):
        viewer = auth.viewer("Bearer sf", token)
        assert viewer.customer_id is None
        assert viewer.customer_token_presented


def test_customer_token_is_ignored_for_non_storefront_roles() -> None:
    auth = make()
    token = auth.issue_customer_token("cus_123")
    assert auth.viewer("Bearer st", token).customer_id is None
