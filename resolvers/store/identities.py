"""The identities port: which vendor record belongs to which profile, the merge log that
explains it, and the tombstones that keep erased people from being linked again.

One aggregate because they change together: a merge moves identities and logs why, an
erasure deletes identities, forgets the log and leaves tombstones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from connectors.records import Source
from resolvers.model import Identity, MergeLogEntry


class IdentityStore(Protocol):
    async def link_identities(self, identities: Sequence[Identity]) -> None:
        """Upsert each identity by (source, source_id), pointing it at its ``profile_id``.

        An identity with ``source_updated_at`` is written only over one whose
        ``source_updated_at`` is missing or not newer (one conditional write each), so an
        older vendor delivery never replaces facts from a newer one.
        """

    async def get_identities(
        self, keys: Sequence[tuple[Source, str]]
    ) -> dict[tuple[Source, str], Identity]: ...

    async def identities_of(self, profile_ids: Sequence[str]) -> dict[str, list[Identity]]:
        """Every requested id is a key (an empty list when it has no identities), each list
        ordered by (source, source_id)."""
        ...

    async def find_identities(
        self, *, emails: Sequence[str] = (), phones: Sequence[str] = ()
    ) -> list[Identity]:
        """Identities holding any of the normalised emails or phones."""
        ...

    async def delete_identities(self, profile_id: str) -> int: ...

    async def delete_identity(self, source: Source, source_id: str) -> Identity | None:
        """Remove one identity (its upstream record was deleted); returns what was removed."""
        ...

    async def append_merge_log(self, entry: MergeLogEntry) -> None: ...

    async def merge_log(self, profile_id: str) -> list[MergeLogEntry]:
        """Entries naming the profile, oldest first."""
        ...

    async def delete_merge_log(self, profile_id: str) -> int:
        """Remove every entry naming the profile (erasure)."""
        ...

    async def add_tombstones(self, digests: Sequence[str]) -> None:
        """Remember digests of erased identifiers, so a sync never re-imports the person."""

    async def tombstoned(self, digests: Sequence[str]) -> set[str]:
        """The subset of ``digests`` that were erased."""
        ...
