"""Bearer tokens and storefront customer tokens, as the Authenticator accepts or refuses them."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from gateway.auth import Authenticator, InvalidToken
from gateway.settings import TokenGrant
from resolvers.viewer import Role

SECRET = "test-secret-" * 6  # 72 bytes: long enough for HS512 too
MAX_LIFETIME = 3600


def make(**kwargs: Any) -> Authenticator:
    return Authenticator(
        {
            "sf": TokenGrant(role="storefront"),
            "st": TokenGrant(role="staff", locations=["loc-1", "loc-2"]),
            "in": TokenGrant(role="internal"),
        },
        SECRET,
        max_lifetime_seconds=MAX_LIFETIME,
        **kwargs,
    )


def signed(claims: dict[str, Any], *, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def refusal(auth: Authenticator, customer_token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        auth.viewer("Bearer sf", customer_token)
    return caught.value


def test_tokens_map_to_roles_and_locations() -> None:
    auth = make()
    assert auth.viewer("Bearer sf").role is Role.STOREFRONT
    staff = auth.viewer("Bearer st")
    assert staff.role is Role.STAFF
    assert staff.works_at("loc-1")
    assert not staff.works_at("loc-3")
    assert auth.viewer("bearer in").role is Role.INTERNAL


def test_a_missing_token_is_anonymous() -> None:
    auth = make()
    for header in (None, "", "   "):
        assert auth.viewer(header).role is Role.ANONYMOUS


def test_an_unknown_token_is_refused_as_not_recognised() -> None:
    with pytest.raises(InvalidToken) as caught:
        make().viewer("Bearer nope")
    assert caught.value.reason == "unknown_token"
    assert "not recognised" in caught.value.message


def test_a_malformed_authorization_header_is_refused() -> None:
    auth = make()
    for header in ("Bearer", "Bearer   ", "Basic sf", "sf", "Bearer sf extra"):
        with pytest.raises(InvalidToken) as caught:
            auth.viewer(header)
        assert caught.value.reason == "malformed_header", header


def test_router_token_is_its_own_role() -> None:
    auth = make(router_token="rt")
    assert auth.viewer("Bearer rt").role is Role.ROUTER
    with pytest.raises(InvalidToken):
        make().viewer("Bearer rt")


def test_customer_token_signed_with_the_secret_names_the_customer() -> None:
    auth = make()
    token = auth.issue_customer_token("cus_123")
    viewer = auth.viewer("Bearer sf", token)
    assert viewer.customer_id == "cus_123"


def test_forged_expired_or_garbled_customer_tokens_are_refused() -> None:
    auth = make()
    now = int(time.time())
    forged = signed({"sub": "cus_123", "exp": now + 60}, key="another-secret-another-secret-12345")
    expired = signed({"sub": "cus_123", "exp": now - 3600})
    assert refusal(auth, forged).reason == "customer_token"
    assert "signature" in refusal(auth, forged).message
    assert "expired" in refusal(auth, expired).message
    assert "not a JWT" in refusal(auth, "not-a-jwt").message


def test_customer_token_without_exp_is_refused() -> None:
    token = signed({"sub": "cus_123", "iat": int(time.time())})
    assert "`exp`" in refusal(make(), token).message


def test_customer_token_without_sub_is_refused() -> None:
    token = signed({"exp": int(time.time()) + 60})
    assert "`sub`" in refusal(make(), token).message


def test_customer_token_living_longer_than_the_maximum_is_refused() -> None:
    now = int(time.time())
    too_long = signed({"sub": "cus_123", "iat": now, "exp": now + MAX_LIFETIME + 600})
    assert "lifetime" in refusal(make(), too_long).message
    # Without `iat`, the lifetime left is what counts.
    far = signed({"sub": "cus_123", "exp": now + MAX_LIFETIME + 600})
    assert "lifetime" in refusal(make(), far).message
    # Within the maximum: accepted.
    ok = signed({"sub": "cus_123", "iat": now, "exp": now + MAX_LIFETIME - 600})
    assert make().viewer("Bearer sf", ok).customer_id == "cus_123"


def test_customer_token_with_numeric_string_claims_is_judged_not_crashed() -> None:
    now = int(time.time())
    ok = signed({"sub": "cus_123", "iat": str(now), "exp": str(now + 60)})
    assert make().viewer("Bearer sf", ok).customer_id == "cus_123"
    too_long = signed({"sub": "cus_123", "exp": str(now + MAX_LIFETIME * 10)})
    assert "lifetime" in refusal(make(), too_long).message
    assert "`sub`" in refusal(make(), signed({"sub": "", "exp": now + 60})).message


def test_customer_token_issued_or_valid_only_in_the_future_is_refused() -> None:
    now = int(time.time())
    issued_later = signed({"sub": "cus_123", "iat": now + 3000, "exp": now + 3500})
    not_before = signed({"sub": "cus_123", "nbf": now + 3000, "exp": now + 3500})
    assert "not valid yet" in refusal(make(), issued_later).message
    assert "not valid yet" in refusal(make(), not_before).message


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).decode().rstrip("=")

    return ".".join(
        (part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature))
    )


def test_alg_none_and_other_algorithms_are_refused() -> None:
    auth = make()
    claims = {"sub": "cus_123", "exp": int(time.time()) + 60}
    none = _unsigned({"alg": "none", "typ": "JWT"}, claims)
    # An RS256 header (the RS/HS confusion: an attacker hopes the verifier picks the
    # algorithm from the token) with an HMAC of the secret as its signature.
    hs_body = signed(claims)
    rs = _unsigned({"alg": "RS256", "typ": "JWT"}, claims, b"x")
    rs = rs.rsplit(".", 1)[0] + "." + hs_body.rsplit(".", 1)[1]
    hs512 = signed(claims, algorithm="HS512")
    for token in (none, rs, hs512):
        error = refusal(auth, token)
        assert "HS256" in error.message, error.message


def test_the_configured_algorithm_is_the_one_accepted() -> None:
    auth = make(algorithm="HS512")
    claims = {"sub": "cus_123", "exp": int(time.time()) + 60}
    assert auth.viewer("Bearer sf", signed(claims, algorithm="HS512")).customer_id == "cus_123"
    assert "HS512" in refusal(auth, signed(claims)).message
    assert auth.viewer("Bearer sf", auth.issue_customer_token("cus_9")).customer_id == "cus_9"


def test_customer_token_is_ignored_for_non_storefront_roles() -> None:
    auth = make()
    token = auth.issue_customer_token("cus_123")
    assert auth.viewer("Bearer st", token).customer_id is None
    assert auth.viewer("Bearer st", "garbage").role is Role.STAFF


def test_messages_fit_in_a_www_authenticate_header() -> None:
    """The message goes into ``error_description="…"``: no quotes or backslashes."""
    auth = make()
    errors = [refusal(auth, t) for t in ("x", signed({"sub": "c"}))]
    for header in ("Bearer nope", "Basic x"):
        with pytest.raises(InvalidToken) as caught:
            auth.viewer(header)
        errors.append(caught.value)
    for error in errors:
        assert '"' not in error.message
        assert "\\" not in error.message
