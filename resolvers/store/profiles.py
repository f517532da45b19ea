"""The profiles port: the cached unified profiles, their lookup keys and versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from resolvers.model import ProfileDoc


class ProfileStore(Protocol):
    """Cached profiles with optimistic concurrency: every write bumps ``version``, and a
    deleted profile leaves a versioned stub so a stale rebuild cannot write it back."""

    async def get_profiles(
        self, ids: Sequence[str], *, include_retired: bool = False
    ) -> dict[str, ProfileDoc]:
        """Live profiles by id. ``include_retired`` also returns the stubs deleted profiles
        leave (``retired=True``, no body, no lookup keys), whose ``version`` a rebuild must
        write against."""
        ...

    async def put_profile(
        self, doc: ProfileDoc, *, expected_version: int | None = None
    ) -> ProfileDoc:
        """Insert or replace; returns the stored doc with its new ``version``.

        With ``expected_version`` the write only happens if the stored version (of a live
        profile or of a retired stub) still equals it (``0`` meaning "no document at all");
        otherwise :class:`~resolvers.store.VersionConflict`. A write over a stub makes the
        profile live again: only a rebuild that read the stub's version, after identities
        came back, can do that.
        """
        ...

    async def delete_profile(self, profile_id: str) -> bool:
        """Retire the profile: its body and lookup keys go, its id stays as a stub with a
        new version, so a rebuild that read the profile before cannot write it back. Returns
        whether a live profile was retired."""
        ...

    async def invalidate_profiles(self, profile_ids: Sequence[str]) -> None:
        """Bump the version of each profile and mark it due for a rebuild
        (``refreshed_at = None``), creating a body-less document if there is none, because
        its identities changed: a rebuild that read the old identities then fails its
        conditional write, and one that wrote just before is served as stale."""

    async def find_profiles(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        name_prefix: str | None = None,
        limit: int = 10,
    ) -> list[ProfileDoc]:
        """Profiles whose normalised email or phone equals the argument, or one of whose name
        keys starts with ``name_prefix`` (lower-case). Served from indexes."""
        ...
