"""Automatic persisted queries (Apollo's ``extensions.persistedQuery`` protocol).

A client sends only the SHA-256 of its operation; the first time the gateway does not know
it and answers ``PERSISTED_QUERY_NOT_FOUND``, the client sends the text with the hash once,
and from then on the hash alone is enough. Each replica keeps its own bounded table (least
recently used out first): a replica that has not seen a hash answers "not found" and the
client registers it there, which is the protocol's normal path, so nothing is shared.

A hash that does not match its text is refused (``PERSISTED_QUERY_HASH_MISMATCH``): the
table can never map a hash to another operation than its own.

With a trusted documents manifest (:mod:`gateway.trusted_documents`), an id the manifest
lists runs its operation on every replica from the first request, with nothing registered.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import replace
from typing import Protocol

from strawberry.http import GraphQLRequestData


class Manifest(Protocol):
    def body(self, operation_id: str) -> str | None: ...


#: Operations one replica remembers.
MAX_ENTRIES = 5_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    """Answered as a GraphQL error with status 200, as Apollo's clients expect."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PersistedQueries:
    def __init__(self, max_entries: int = MAX_ENTRIES, manifest: Manifest | None = None) -> None:
        self.max_entries = max_entries
        self.manifest = manifest
        self._queries: OrderedDict[str, str] = OrderedDict()

    def resolve(self, request: GraphQLRequestData) -> GraphQLRequestData:
        """The request with its operation text, registering a text sent with its hash."""
        persisted = (request.extensions or {}).get("persistedQuery")
        if persisted is None:
            return request
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError(
                "persistedQuery must be {version: 1, sha256Hash}", "PERSISTED_QUERY_NOT_SUPPORTED"
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise PersistedQueryError(
                "sha256Hash must be 64 lower-case hex digits", "BAD_USER_INPUT"
            )
        if request.query is None:
            listed = self.manifest.body(digest) if self.manifest is not None else None
            if listed is not None:
                return replace(request, query=listed)
            known = self._queries.get(digest)
            if known is None:
                raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            self._queries.move_to_end(digest)
            return replace(request, query=known)
        if hashlib.sha256(request.query.encode()).hexdigest() != digest:
            raise PersistedQueryError(
                "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
            )
        self._queries[digest] = request.query
        self._queries.move_to_end(digest)
        while len(self._queries) > self.max_entries:
            self._queries.popitem(last=False)
        return request

    def __len__(self) -> int:
        return len(self._queries)
