"""Operator actions on profiles: merge, unmerge, erase.

Each is logged in the merge log with what was there before; merges and splits made by a
person are decisions the resolver respects afterwards (see ``Linker._decisions``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from connectors.capabilities import MarketingSink
from connectors.errors import UpstreamError
from connectors.registry import ConnectorSet
from resolvers.customers.linking import new_profile_id
from resolvers.customers.retire import OnRetired, retire_profile
from resolvers.customers.tombstones import tombstone
from resolvers.errors import BadUserInput, NotFound
from resolvers.identity.placeholders import Placeholders
from resolvers.model import Identity, MergeLogEntry
from resolvers.store import Store

log = logging.getLogger("omnigate.customers")


def _keys(identities: list[Identity]) -> list[list[str]]:
    return [[i.source.value, i.source_id] for i in identities]


class ProfileAdmin:
    def __init__(
        self,
        store: Store,
        connectors: ConnectorSet,
        *,
        clock: Callable[[], datetime],
        placeholders: Placeholders | None = None,
    ) -> None:
        self.store = store
        self.connectors = connectors
        self.clock = clock
        self.placeholders = placeholders or Placeholders()
        #: Told the ids of loyalty accounts a merge or unmerge moved entries between (set by
        #: the composition root: the email tool's copy of the figures follows).
        self.accounts_moved: Callable[[Sequence[str]], None] | None = None
        #: Told each profile it retires (see :data:`resolvers.customers.retire.OnRetired`).
        self.on_retired: OnRetired | None = None

    async def _move_points(
        self, from_id: str, into_id: str, origins: Sequence[str] | None = None
    ) -> None:
        moved = await self.store.ledger.move_entries(from_id, into_id, origins=origins)
        if moved and self.accounts_moved is not None:
            self.accounts_moved([from_id, into_id])

    async def merge(self, profile_ids: list[str], *, actor: str | None) -> str:
        """Join profiles into the first one. Returns the surviving id."""
        ids = list(dict.fromkeys(profile_ids))
        if len(ids) < 2:
            raise BadUserInput("name at least two different customers to merge")
        grouped = await self.store.identities.identities_of(ids)
        missing = [pid for pid in ids if not grouped.get(pid)]
        if missing:
            raise NotFound(f"no customer {missing[0]}", extensions={"id": missing[0]})
        target, others = ids[0], ids[1:]
        await self.store.identities.append_merge_log(
            MergeLogEntry(
                id=new_profile_id().replace("cus_", "mrg_"),
                action="merge",
                profile_ids=tuple(ids),
                reason="merged by an operator",
                at=self.clock(),
                actor=actor or "operator",
                before={pid: _keys(grouped[pid]) for pid in ids},
            )
        )
        moved = [
            replace(i, profile_id=target, reason="merged by an operator")
            for pid in others
            for i in grouped[pid]
        ]
        await self.store.identities.link_identities(moved)
        # Points go with the person: each merged account's ledger moves into the survivor's.
        for pid in others:
            await self._move_points(pid, target)
        # After the identities moved: a rebuild of any side that read the old identities
        # now fails its conditional write (see CustomerService._rebuild).
        await self.store.profiles.invalidate_profiles([target])
        for pid in others:
            await retire_profile(self.store, pid, on_retired=self.on_retired)
        return target

    async def unmerge(self, profile_id: str, *, actor: str | None) -> list[str]:
        """Undo the latest merge into ``profile_id``: every identity goes back to the profile
        it had before, and the split is remembered so the resolver does not join them again.
        Returns the restored profile ids (the surviving one first)."""
        merge = _latest_merge_not_undone(
            await self.store.identities.merge_log(profile_id), profile_id
        )
        if merge is None:
            raise BadUserInput("this customer has no merge to undo", extensions={"id": profile_id})
        current = {
            (i.source.value, i.source_id): i
            for i in (await self.store.identities.identities_of([profile_id])).get(profile_id, [])
        }
        relinked: list[Identity] = []
        for pid, keys in merge.before.items():
            if pid == profile_id:
                continue
            for source, source_id in keys:
                identity = current.get((source, source_id))
                if identity is not None:
                    relinked.append(replace(identity, profile_id=pid, reason="unmerged"))
        await self.store.identities.link_identities(relinked)
        # Each restored profile takes back the entries written to it, or to the profiles it
        # had absorbed itself, before this merge.
        for pid in merge.profile_ids[1:]:
            origins = await self._absorbed(pid, merge.at)
            await self._move_points(profile_id, pid, sorted(origins))
        await self.store.profiles.invalidate_profiles(list(merge.profile_ids))
        await self.store.identities.append_merge_log(
            MergeLogEntry(
                id=new_profile_id().replace("cus_", "mrg_"),
                action="unmerge",
                profile_ids=merge.profile_ids,
                reason=f"undid merge {merge.id}",
                at=self.clock(),
                actor=actor or "operator",
                before={pid: keys for pid, keys in merge.before.items()},
                undoes=merge.id,
            )
        )
        return list(merge.profile_ids)

    async def _absorbed(self, profile_id: str, before: datetime) -> set[str]:
        """``profile_id`` and every profile merged into it (and into those) before
        ``before`` and not split off again: whose entries it held at that time."""
        found, todo = {profile_id}, [profile_id]
        while todo:
            pid = todo.pop()
            entries = await self.store.identities.merge_log(pid)
            undone = {e.undoes for e in entries if e.action == "unmerge" and e.undoes}
            for e in entries:
                if e.action != "merge" or e.profile_ids[0] != pid or e.at >= before:
                    continue
                if e.id in undone:
                    continue
                for absorbed in e.profile_ids[1:]:
                    if absorbed not in found:
                        found.add(absorbed)
                        todo.append(absorbed)
        return found

    async def erase(self, profile_id: str) -> list[Identity]:
        """Remove a person everywhere we hold them: identities, cached profile, merge log;
        ask the email tool to delete them; keep loyalty history only anonymised. Returns the
        erased identities (the caller records tombstones so a sync does not bring them back)."""
        identities = (await self.store.identities.identities_of([profile_id])).get(profile_id, [])
        cached = (await self.store.profiles.get_profiles([profile_id])).get(profile_id)
        if not identities and cached is None:
            raise NotFound(f"no customer {profile_id}", extensions={"id": profile_id})
        emails = sorted(
            {e for i in identities for e in i.emails} | set(cached.emails if cached else [])
        )
        phones = sorted(
            {p for i in identities for p in i.phones} | set(cached.phones if cached else [])
        )
        for sink in self.connectors.of(MarketingSink):
            targets: list[str | None] = list(emails) or [None]
            for email in targets:
                try:
                    await sink.request_deletion(email=email, phone=phones[0] if phones else None)
                except UpstreamError as exc:
                    # Our side of the erasure must not wait for the vendor; the operator
                    # re-sends the request (docs/runbooks.md) when this is logged.
                    log.warning(
                        "deletion request to %s failed (%s); re-send it", sink.source, exc.code
                    )
        # Tombstones first: from here on the linker refuses these records, so a webhook or
        # sync racing this erasure cannot link them again after the deletes below. Source
        # ids and real emails only: a phone is shared by families and a placeholder by
        # strangers, and neither may keep someone else out.
        await self.store.identities.add_tombstones(
            [tombstone(i.source, i.source_id) for i in identities]
            + [tombstone(None, e) for e in emails if not self.placeholders.is_placeholder_email(e)]
        )
        anonymous = "anon_" + hashlib.sha256(profile_id.encode()).hexdigest()[:16]
        await self.store.ledger.anonymise_account(profile_id, anonymous)
        await self.store.codes.forget_codes(profile_id)
        await self.store.identities.delete_identities(profile_id)
        # By key too: an identity a racing link moved to another profile id is still theirs.
        for identity in identities:
            await self.store.identities.delete_identity(identity.source, identity.source_id)
        # Retire, not forget: a rebuild in flight fails its version check instead of writing
        # the person back (see CustomerService._rebuild).
        await retire_profile(self.store, profile_id, on_retired=self.on_retired)
        await self.store.identities.delete_merge_log(profile_id)
        return identities


def _latest_merge_not_undone(entries: list[MergeLogEntry], profile_id: str) -> MergeLogEntry | None:
    """The newest merge into ``profile_id`` that no unmerge has undone yet: merges undo in
    reverse order, each once."""
    undone = {e.undoes for e in entries if e.action == "unmerge" and e.undoes}
    into = [e for e in entries if e.action == "merge" and e.profile_ids[0] == profile_id]
    return next((e for e in reversed(into) if e.id not in undone), None)
