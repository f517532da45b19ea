"""Bearer token -> ``Viewer``, or a refusal.

Tokens are looked up by their SHA-256 digest, so the lookup's timing says nothing about the
token's characters and the raw tokens are not kept in memory after start-up. A storefront may
add a signed customer token (a JWT whose ``sub`` is the unified customer id) in
``X-Customer-Token`` to read its own customer.

A missing ``Authorization`` header is an anonymous caller. A credential that is presented
and not accepted (an unknown bearer token, a header that is not ``Bearer <token>``, a customer
token that is forged, expired, unbounded or signed another way) raises :class:`InvalidToken`:
the HTTP view answers it with 401 and ``WWW-Authenticate``, the WebSocket view refuses the
connection. A caller that sent a credential wants to act as someone; running it as
anonymous would only hide why nothing works.
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
#: Clock skew forgiven on ``exp``, ``nbf`` and ``iat`` between the storefront and us.
LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """A credential was presented and is not accepted. ``message`` is safe to show the
    caller (and to quote in ``WWW-Authenticate``: no quotes, no backslashes)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        #: ``unknown_token``, ``malformed_header`` or ``customer_token``.
        self.reason = reason


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Authenticator:
    def __init__(
        self,
        grants: Mapping[str, TokenGrant],
        customer_token_secret: str,
        *,
        algorithm: str = "HS256",
        max_lifetime_seconds: int = 86_400,
        router_token: str | None = None,
    ) -> None:
        self._viewers = {
            _digest(token): Viewer(
                role=Role(grant.role),
                location_ids=frozenset(grant.locations),
                name=grant.name or f"{grant.role}-token",
            )
            for token, grant in grants.items()
        }
        if router_token:
            self._viewers[_digest(router_token)] = Viewer(role=Role.ROUTER, name="router-token")
        self._customer_secret = customer_token_secret
        self._algorithm = algorithm
        self._max_lifetime = max_lifetime_seconds

    def viewer(self, authorization: str | None, customer_token: str | None = None) -> Viewer:
        """The caller. Raises :class:`InvalidToken` for a credential that is not accepted;
        no ``Authorization`` at all is anonymous. A customer token counts only alongside a
        storefront token (other roles read customers by their own right)."""
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        viewer = self._viewers.get(_digest(_bearer(authorization)))
        if viewer is None:
            log.info("refused an unknown bearer token")
            raise InvalidToken("The bearer token is not recognised.", reason="unknown_token")
        if customer_token and viewer.role is Role.STOREFRONT:
            return Viewer(
                role=viewer.role,
                name=viewer.name,
                customer_id=self.customer_id(customer_token),
                customer_token_presented=True,
            )
        return viewer

    def customer_id(self, token: str) -> str:
        """The customer a signed customer token names. The token must be signed with the
        configured algorithm and secret, name a ``sub``, carry an ``exp`` and live no longer
        than the maximum lifetime (from ``iat``, or from now without one); ``iat`` and
        ``nbf`` must not be in the future."""
        try:
            claims = jwt.decode(
                token,
                self._customer_secret,
                algorithms=[self._algorithm],
                options={"require": ["sub", "exp"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as exc:
            log.info("refused a customer token: %s", type(exc).__name__)
            raise _customer_refusal(self._why(exc)) from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise _customer_refusal("its `sub` is not a customer id")
        # PyJWT has checked that both are integers (or integer strings).
        start = int(claims["iat"]) if "iat" in claims else time.time()
        if int(claims["exp"]) - start > self._max_lifetime + LEEWAY_SECONDS:
            log.info("refused a customer token: lifetime over the maximum")
            raise _customer_refusal(
                f"its lifetime exceeds the maximum of {self._max_lifetime} seconds"
            )
        return sub

    def _why(self, exc: jwt.PyJWTError) -> str:
        if isinstance(exc, jwt.ExpiredSignatureError):
            return "it has expired"
        if isinstance(exc, jwt.MissingRequiredClaimError):
            return f"it has no `{exc.claim}` claim"
        if isinstance(exc, jwt.ImmatureSignatureError):
            return "it is not valid yet (`iat` or `nbf` is in the future)"
        if isinstance(exc, jwt.InvalidAlgorithmError):
            return f"it must be signed with {self._algorithm}"
        if isinstance(exc, jwt.InvalidSignatureError):
            return "its signature does not match"
        if isinstance(exc, jwt.DecodeError):
            return "it is not a JWT"
        return "its claims are malformed"

    def issue_customer_token(self, customer_id: str, *, ttl_seconds: int | None = None) -> str:
        """Signs a customer token; used by the demo and tests (a real storefront signs its
        own with the shared secret)."""
        now = int(time.time())
        ttl = min(ttl_seconds or 3600, self._max_lifetime)
        return jwt.encode(
            {"sub": customer_id, "iat": now, "exp": now + ttl},
            self._customer_secret,
            algorithm=self._algorithm,
        )


def _customer_refusal(why: str) -> InvalidToken:
    return InvalidToken(f"The customer token is not valid: {why}.", reason="customer_token")


def _bearer(authorization: str) -> str:
    scheme, _, value = authorization.strip().partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        log.info("refused a malformed Authorization header")
        raise InvalidToken(
            "The Authorization header must be `Bearer <token>`.", reason="malformed_header"
        )
    return token
