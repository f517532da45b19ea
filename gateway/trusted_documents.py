"""Trusted documents: the operations a production storefront may run, fixed at build time.

A storefront token is public (it ships inside the web app), so anyone can call the gateway
with it and send any operation the schema allows. With a manifest of the operations the
storefront's own code contains, the gateway runs those and refuses the rest for the roles the
manifest covers (storefront by default), whatever the rest of the schema allows them.

The manifest is the file the client toolchain writes at build time, in either of the two
common shapes:

- Apollo's persisted query manifest (``generate-persisted-query-manifest``):
  ``{"format": "apollo-persisted-query-manifest", "version": 1,
  "operations": [{"id": "<sha256>", "name": "...", "type": "query", "body": "..."}]}``;
- a plain map of id to body (GraphQL Code Generator's client preset, Relay):
  ``{"<sha256>": "query ..."}``.

A client sends either the id alone (the ``extensions.persistedQuery`` protocol, so the manifest
answers what automatic persisted queries would otherwise have to register) or the full text;
the text is trusted when it is byte for byte a manifest body (compared by SHA-256), so no
parsing or normalising happens before the decision.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

from graphql import GraphQLError

from gateway.settings import Settings, StartupError
from resolvers.viewer import Role, Viewer

log = logging.getLogger("omnigate.trusted_documents")

#: Apollo Router's code for an operation outside its safelist (``persisted_queries.safelist``).
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
APOLLO_FORMAT = "apollo-persisted-query-manifest"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TrustedDocuments:
    """The manifest's operations by id, and the digests of their bodies."""

    def __init__(self, bodies: dict[str, str], roles: Iterable[Role]) -> None:
        self._bodies = dict(bodies)
        self._digests = frozenset(digest(body) for body in self._bodies.values())
        self.roles = frozenset(roles)

    @classmethod
    def load(cls, path: Path, roles: Iterable[Role]) -> TrustedDocuments:
        """Read a manifest; a file that cannot be read or has the wrong shape stops the start
        (a storefront refused every operation would be an outage, not a policy)."""
        setting = "OMNIGATE_TRUSTED_DOCUMENTS"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StartupError([f"{setting}: cannot read {path}: {exc}"]) from None
        try:
            bodies = _bodies(raw)
        except ValueError as exc:
            raise StartupError([f"{setting}: {path} is not a manifest: {exc}"]) from None
        if not bodies:
            raise StartupError([f"{setting}: {path} lists no operations"])
        return cls(bodies, roles)

    def __len__(self) -> int:
        return len(self._bodies)

    def body(self, operation_id: str) -> str | None:
        return self._bodies.get(operation_id)

    def refusal(self, viewer: Viewer | None, query: str) -> GraphQLError | None:
        """Why this caller may not run this text, or ``None`` when it may."""
        role = viewer.role if viewer is not None else Role.ANONYMOUS
        if role not in self.roles or digest(query) in self._digests:
            return None
        return GraphQLError(
            "This operation is not in the trusted documents manifest: only the operations "
            "the storefront was built with may run with its token.",
            extensions={"code": NOT_IN_LIST},
        )


def _bodies(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object")
    if raw.get("format") == APOLLO_FORMAT:
        if raw.get("version") != 1:
            raise ValueError(f"unsupported {APOLLO_FORMAT} version {raw.get('version')!r}")
        operations = raw.get("operations")
        if not isinstance(operations, list):
            raise ValueError("`operations` must be a list")
        bodies: dict[str, str] = {}
        for n, operation in enumerate(operations):
            if not isinstance(operation, dict):
                raise ValueError(f"operations[{n}] must be an object")
            id_, body = operation.get("id"), operation.get("body")
            if not isinstance(id_, str) or not isinstance(body, str):
                raise ValueError(f"operations[{n}] needs a string `id` and `body`")
            bodies[id_] = body
        return bodies
    if all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        return dict(raw)
    raise ValueError(f"neither an {APOLLO_FORMAT} nor a map of id to operation text")


def trusted_documents(settings: Settings) -> TrustedDocuments | None:
    """The manifest the settings name, if any. In production, storefront tokens without one
    are allowed (a retailer may serve apps it does not build) but said at start."""
    if settings.trusted_documents is None:
        if settings.production and any(
            grant.role == "storefront" for grant in settings.token_grants().values()
        ):
            log.warning(
                "storefront tokens may run any operation: set OMNIGATE_TRUSTED_DOCUMENTS to "
                "the manifest of the storefront's operations"
            )
        return None
    roles = [Role(role) for role in settings.trusted_documents_roles]
    documents = TrustedDocuments.load(Path(settings.trusted_documents), roles)
    log.info("trusted documents: %d operations for %s", len(documents), ", ".join(sorted(roles)))
    return documents
