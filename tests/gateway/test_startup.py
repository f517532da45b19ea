"""Production refuses to start with demo credentials: the demo secret and demo tokens are
printed in the docs, so anyone could sign a customer token with them."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt
import pytest

from gateway.app import create_app
from gateway.settings import DEMO_CUSTOMER_TOKEN_SECRET, StartupError
from tests.support import codes, gql, make_settings, serve

OWN_SECRET = "prod-secret-" * 4  # 48 bytes
TOKENS = {"sf-token": {"role": "storefront"}, "internal-token": {"role": "internal"}}


def production(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "environment": "production",
        "customer_token_secret": OWN_SECRET,
        "tokens": TOKENS,
    }
    settings.update(overrides)
    return settings


def refusal(**overrides: Any) -> str:
    with pytest.raises(StartupError) as caught:
        create_app(make_settings(**production(**overrides)))
    return str(caught.value)


def test_production_starts_with_its_own_secret_and_tokens() -> None:
    assert create_app(make_settings(**production())).state.settings.environment == "production"


def test_production_refuses_no_customer_token_secret() -> None:
    for unset in (None, "", "   "):
        message = refusal(customer_token_secret=unset)
        assert "OMNIGATE_CUSTOMER_TOKEN_SECRET" in message
        assert "not set" in message


def test_production_refuses_the_demo_secret() -> None:
    message = refusal(customer_token_secret=DEMO_CUSTOMER_TOKEN_SECRET)
    assert "OMNIGATE_CUSTOMER_TOKEN_SECRET" in message
    assert "demo" in message


def test_production_refuses_a_secret_too_short_for_its_algorithm() -> None:
    assert "32 bytes" in refusal(customer_token_secret="short-secret")
    message = refusal(customer_token_secret=OWN_SECRET, customer_token_algorithm="HS512")
    assert "64 bytes" in message


def test_production_refuses_demo_mode_and_its_tokens() -> None:
    message = refusal(demo=True)
    assert "OMNIGATE_DEMO" in message
    # No vendor credentials at all means demo mode too, unless it is switched off.
    assert "OMNIGATE_DEMO" in refusal(demo=None)


def test_production_refuses_a_demo_token_configured_by_hand() -> None:
    message = refusal(tokens={**TOKENS, "demo-internal": {"role": "internal"}})
    assert "OMNIGATE_TOKENS" in message
    assert "demo-internal" in message
    assert "OMNIGATE_ROUTER_TOKEN" in refusal(router_token="demo-staff")


def test_every_problem_is_named_at_once() -> None:
    message = refusal(customer_token_secret=None, demo=True)
    assert "OMNIGATE_CUSTOMER_TOKEN_SECRET" in message
    assert "OMNIGATE_DEMO" in message


def test_router_token_must_differ_from_the_other_tokens() -> None:
    with pytest.raises(StartupError, match="OMNIGATE_ROUTER_TOKEN"):
        create_app(make_settings(tokens=TOKENS, router_token="sf-token"))


def test_development_still_signs_with_the_demo_secret() -> None:
    app = create_app(make_settings())
    token = jwt.encode(
        {"sub": "cus_1", "exp": int(time.time()) + 60}, DEMO_CUSTOMER_TOKEN_SECRET, "HS256"
    )
    assert app.state.authenticator.customer_id(token) == "cus_1"


async def test_a_token_signed_with_the_docs_secret_reads_nothing_in_production() -> None:
    """The original defect: with the demo secret as production's default, a token signed
    with the secret printed in docs/demo.md read a customer's email."""
    app = create_app(make_settings(**production()))
    forged = jwt.encode(
        {"sub": "cus_1", "exp": int(time.time()) + 60}, DEMO_CUSTOMER_TOKEN_SECRET, "HS256"
    )
    async with serve(app) as url, aiohttp.ClientSession() as http:
        status, body = await gql(
            http,
            url,
            "{ viewer { customer { emails } } }",
            token="sf-token",
            headers={"X-Customer-Token": forged},
        )
    assert status == 401
    assert codes(body) == ["UNAUTHENTICATED"]
    assert "signature" in body["errors"][0]["message"]
