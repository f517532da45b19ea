"""Who is asking. Built by the gateway's auth from the bearer token; every resolver that
returns personal data decides on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    ANONYMOUS = "anonymous"
    STOREFRONT = "storefront"
    STAFF = "staff"
    INTERNAL = "internal"
    #: A federation router: may read ``_service { sdl }`` and nothing personal.
    ROUTER = "router"


ALL_LOCATIONS = "*"


@dataclass(frozen=True, slots=True)
class Viewer:
    role: Role
    #: Unified location ids a staff token is bound to; ``"*"`` for every store.
    location_ids: frozenset[str] = field(default_factory=frozenset)
    #: For a storefront with a signed customer token: the unified customer id it may read.
    customer_id: str | None = None
    #: A non-secret name of the token, for logs.
    name: str | None = None
    #: A customer token was sent; with ``customer_id`` None it was forged or expired.
    customer_token_presented: bool = False

    @property
    def authenticated(self) -> bool:
        return self.role is not Role.ANONYMOUS

    @property
    def may_read_pii(self) -> bool:
        """Email, phone, address, consent and others' orders: staff and internal only."""
        return self.role in (Role.STAFF, Role.INTERNAL)

    @property
    def every_store(self) -> bool:
        """Internal, or staff bound to ``"*"``: no store limits what it sees."""
        return self.role is Role.INTERNAL or (
            self.role is Role.STAFF and ALL_LOCATIONS in self.location_ids
        )

    def works_at(self, location_id: str | None) -> bool:
        """Whether this token is bound to that store (``None``, no store, only for every
        store)."""
        if self.every_store:
            return True
        return (
            self.role is Role.STAFF
            and location_id is not None
            and (location_id in self.location_ids)
        )


ANONYMOUS = Viewer(role=Role.ANONYMOUS)
