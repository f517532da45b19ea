"""Retiring a profile: every path that takes a profile id out of use (a merge, an erasure,
a profile left without identities) goes through :func:`retire_profile`, so nothing kept
beside the profile outlives it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from resolvers.store import Store
from resolvers.store.segments import tombstone

#: Told the id of a profile just retired (set by the composition root: it leaves its saved
#: segments, and their subscribers hear it).
OnRetired = Callable[[str], Awaitable[object]]


async def retire_profile(
    store: Store, profile_id: str, *, on_retired: OnRetired | None = None
) -> bool:
    """Retire the profile (its stub keeps the id and a new version), then leave a segment
    facts tombstone at that version: no segment finds the id any more, and a build that read
    the profile before it was retired carries an older version, so its facts are ignored.
    Returns whether a live profile was retired."""
    retired = await store.profiles.delete_profile(profile_id)
    stub = (await store.profiles.get_profiles([profile_id], include_retired=True)).get(profile_id)
    # No stub: no profile was ever stored, so no facts were either. A stub live again
    # already was rebuilt after its identities came back: its facts stand.
    if stub is not None and stub.retired:
        await store.segments.put_facts(tombstone(profile_id, stub.version))
        if on_retired is not None:
            await on_retired(profile_id)
    return retired
