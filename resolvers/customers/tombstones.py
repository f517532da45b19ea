"""Digests of erased identifiers: how the gateway remembers *that* someone was erased
without remembering who.

An erasure records one digest per upstream record (``source:id``) and per real email. Every
path that links records (sync, webhooks) asks here first, so an erased person never comes
back, whichever vendor reports them next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from connectors.records import CustomerRecord, MarketingProfile, Source
from resolvers.store import IdentityStore

#: Digests asked for in one store query.
_CHUNK = 1000

Record = CustomerRecord | MarketingProfile


def tombstone(source: Source | None, value: str) -> str:
    """A one-way digest of an erased identifier, so a sync can skip the person without the
    store keeping who they were."""
    prefix = source.value if source else "contact"
    return hashlib.sha256(f"{prefix}:{value}".encode()).hexdigest()


def digests_of(source: Source, source_id: str, emails: Sequence[str]) -> list[str]:
    """The digests that would mark this record erased (``emails`` normalised)."""
    return [tombstone(source, source_id), *(tombstone(None, e) for e in emails)]


async def erased_among(identities: IdentityStore, digests: dict[int, list[str]]) -> set[int]:
    """The keys of ``digests`` (one list per record) any of whose digests is tombstoned."""
    everything = sorted({d for ds in digests.values() for d in ds})
    erased: set[str] = set()
    for start in range(0, len(everything), _CHUNK):
        erased |= await identities.tombstoned(everything[start : start + _CHUNK])
    if not erased:
        return set()
    return {key for key, ds in digests.items() if erased.intersection(ds)}
