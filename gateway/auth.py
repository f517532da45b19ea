"""Bearer token -> ``Viewer``.

Tokens are looked up by their SHA-256 digest, so the lookup's timing says nothing about the
token's characters and the raw tokens are not kept in memory after start-up. A storefront may
add a signed customer token (HS256 JWT whose ``sub`` is the unified customer id) in
``X-Customer-Token`` to read its own customer.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping

import jwt

from gateway.settings import TokenGrant
from resolvers.viewer import ANONYMOUS, Role, Viewer

log = logging.getLogger("omnigate.auth")

CUSTOMER_TOKEN_HEADER = "x-customer-token"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Authenticator:
    def __init__(self, grants: Mapping[str, TokenGrant], customer_token_secret: str) -> None:
        self._viewers = {
            _digest(token): Viewer(
                role=Role(grant.role),
                location_ids=frozenset(grant.locations),
                name=grant.name or f"{grant.role}-token",
            )
            for token, grant in grants.items()
        }
        self._customer_secret = customer_token_secret

    def viewer(self, authorization: str | None, customer_token: str | None = None) -> Viewer:
        token = _bearer(authorization)
        if token is None:
            return ANONYMOUS
        viewer = self._viewers.get(_digest(token))
        if viewer is None:
            log.info("rejected an unknown bearer token")
            return ANONYMOUS
        if customer_token and viewer.role is Role.STOREFRONT:
            return Viewer(
                role=viewer.role,
                name=viewer.name,
                customer_id=self.customer_id(customer_token),
                customer_token_presented=True,
            )
        return viewer

    def customer_id(self, token: str) -> str | None:
        """The customer a signed token names, or ``None`` if forged, expired or malformed."""
        try:
            claims = jwt.decode(
                token, self._customer_secret, algorithms=["HS256"], options={"require": ["sub"]}
            )
        except jwt.PyJWTError:
            log.info("rejected a customer token")
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) and sub else None

    def issue_customer_token(self, customer_id: str, *, ttl_seconds: int = 3600) -> str:
        """Signs a customer token; used by the demo and tests (a real storefront signs its
        own with the shared secret)."""
        now = int(time.time())
        return jwt.encode(
            {"sub": customer_id, "iat": now, "exp": now + ttl_seconds},
            self._customer_secret,
            algorithm="HS256",
        )


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
