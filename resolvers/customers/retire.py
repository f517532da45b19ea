"""Retiring a profile: every path that takes a profile id out of use (a merge, an erasure,
a profile left without identities) goes through :func:`retire_profile`, so nothing kept
beside the profile outlives it."""

from __future__ import annotations

from resolvers.store import Store
from resolvers.store.segments import tombstone


async def retire_profile(store: Store, profile_id: str) -> bool:
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
    return retired
