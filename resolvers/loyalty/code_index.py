"""Finding the member behind a code: the store's code index, and the merge log from there.

Every profile build registers the profile's two codes (:func:`index_codes`, idempotent), so
any code a member was ever shown is in the index, pointing at the id it was derived from.
That id need not be a live profile any more: a merge moves a person's identities into the
surviving profile and retires theirs. :func:`current_profile` follows the merge log from the
code's id to where the person lives now, so a merged-away member's card keeps working, and
an unmerge (which gives the id its identities back) makes each code find its own profile
again, without a write to the index in either direction.
"""

from __future__ import annotations

import logging

from resolvers.errors import BadUserInput
from resolvers.loyalty import codes
from resolvers.model import MergeLogEntry
from resolvers.store import Store
from resolvers.store.codes import CodeOwner, CodePurpose, CodeStore

log = logging.getLogger("omnigate.loyalty")

#: Merges followed from a code's id before giving up (a chain longer than this is a loop).
MAX_HOPS = 16
_ALPHABET = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def owners(customer_id: str) -> list[CodeOwner]:
    return [
        CodeOwner(codes.member_code(customer_id), customer_id, CodePurpose.MEMBER),
        CodeOwner(codes.referral_code(customer_id), customer_id, CodePurpose.REFERRAL),
    ]


async def index_codes(index: CodeStore, customer_id: str) -> None:
    """Register the customer's codes. A clash (two ids hashing to one code) keeps the first
    owner and is logged: the second member's code then finds nobody, never the wrong person."""
    for held in await index.register_codes(owners(customer_id)):
        log.error(
            "%s code %s already belongs to %s; %s cannot use it",
            held.purpose.value,
            held.code,
            held.customer_id,
            customer_id,
        )


def parse(code: str) -> str | None:
    """The code as written, or ``None`` when it cannot be one (wrong length or alphabet)."""
    written = codes.normalise(code)
    if len(written) != codes.LENGTH or not set(written) <= _ALPHABET:
        return None
    return written


def require_code(code: str, *, argument: str = "code") -> str:
    written = parse(code)
    if written is None:
        raise BadUserInput(
            f"a code is {codes.LENGTH} letters and digits (Crockford base32)",
            extensions={"argument": argument},
        )
    return written


def _merged_into(entries: list[MergeLogEntry], profile_id: str) -> str | None:
    """The profile ``profile_id`` was last merged into, unless an unmerge undid that."""
    undone = {e.undoes for e in entries if e.action == "unmerge" and e.undoes}
    away = [
        e
        for e in entries
        if e.action == "merge" and profile_id in e.profile_ids[1:] and e.id not in undone
    ]
    return away[-1].profile_ids[0] if away else None


async def current_profile(store: Store, customer_id: str) -> str | None:
    """Where the person once known as ``customer_id`` lives now: that id while it holds
    identities (or a live profile), else the profile it was merged into, followed as far as
    merges go. ``None``: erased, or gone without a merge to follow."""
    current, seen = customer_id, {customer_id}
    for _ in range(MAX_HOPS):
        held = await store.identities.identities_of([current])
        if held.get(current) or await store.profiles.get_profiles([current]):
            return current
        target = _merged_into(await store.identities.merge_log(current), current)
        if target is None or target in seen:
            return None
        seen.add(target)
        current = target
    return None


async def merged_into(store: Store, profile_id: str) -> set[str]:
    """The ids merged into ``profile_id`` (and into those, as far as merges go) that no
    unmerge has given back: the people this profile is now, besides its own id."""
    found: set[str] = set()
    todo = [profile_id]
    while todo and len(found) < MAX_HOPS * 4:
        current = todo.pop()
        entries = await store.identities.merge_log(current)
        undone = {e.undoes for e in entries if e.action == "unmerge" and e.undoes}
        for e in entries:
            if e.action == "merge" and e.profile_ids[0] == current and e.id not in undone:
                for other in e.profile_ids[1:]:
                    if other != profile_id and other not in found:
                        found.add(other)
                        todo.append(other)
    return found


async def owner_of(store: Store, code: str, purpose: CodePurpose) -> str | None:
    """The profile that a code (as written) of this purpose names now, or ``None``."""
    held = await store.codes.code_owner(code)
    if held is None or held.purpose is not purpose:
        return None
    return await current_profile(store, held.customer_id)
