"""Clustering upstream records into people.

Rules, strongest first (DESIGN.md §5):

1. A shared email joins records. Email is the strong identifier.
2. A shared phone joins records only when the full name matches too: a phone alone is weak,
   because families share one.
3. A shared phone without a matching name joins nobody, but is surfaced as a possible
   duplicate with its reason, for a person to decide (``mergeCustomers``).

Constraints that can veto a join: a profile holds at most ``limits[source]`` records of one
source (by default its vendor's own: Shopify enforces unique emails, so two Shopify customers
are two people, and its limit is one), placeholder
values join nobody, and pairs a person has split with ``unmergeCustomer`` stay apart. A vetoed
join is recorded as a conflict, never silently dropped.

The algorithm is union-find over record indices, so it is linear in records plus shared values
and resolves 100,000 records in well under a second.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from connectors import vendors as registry
from connectors.records import Source
from resolvers.identity.placeholders import Placeholders

Key = tuple[Source, str]


@dataclass(frozen=True, slots=True)
class IdentityFacts:
    """What resolution needs of one upstream record, already normalised."""

    source: Source
    source_id: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    name: str | None = None

    @property
    def key(self) -> Key:
        return (self.source, self.source_id)


@dataclass(frozen=True, slots=True)
class Link:
    """Why two records were joined, or why they were kept apart."""

    a: Key
    b: Key
    reason: str


@dataclass(slots=True)
class Resolution:
    clusters: list[list[IdentityFacts]]
    links: list[Link] = field(default_factory=list)
    conflicts: list[Link] = field(default_factory=list)
    possible_duplicates: list[Link] = field(default_factory=list)
    placeholders_found: dict[str, int] = field(default_factory=dict)


def default_limits() -> dict[Source, int]:
    """Each registered vendor's own limit (its declaration's ``identity_limit``)."""
    return {Source(name): n for name, n in registry.identity_limits().items()}


class _Components:
    def __init__(self, facts: Sequence[IdentityFacts]) -> None:
        self.parent = list(range(len(facts)))
        self.sources: list[Counter[Source]] = [Counter([f.source]) for f in facts]
        self.members: list[list[int]] = [[i] for i in range(len(facts))]

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        self.parent[b] = a
        self.sources[a] += self.sources[b]
        self.members[a].extend(self.members[b])
        self.members[b] = []


def resolve(
    facts: Iterable[IdentityFacts],
    *,
    limits: Mapping[Source, int] | None = None,
    placeholders: Placeholders | None = None,
    placeholder_threshold: int = 5,
    keep_apart: Iterable[tuple[Key, Key]] = (),
    keep_together: Iterable[tuple[Key, Key]] = (),
) -> Resolution:
    records = sorted(facts, key=lambda f: (f.source.value, f.source_id))
    limits = default_limits() if limits is None else limits
    placeholders = placeholders or Placeholders()
    by_email: dict[str, list[int]] = defaultdict(list)
    by_phone: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        for email in dict.fromkeys(record.emails):
            if not placeholders.is_placeholder_email(email):
                by_email[email].append(i)
        for phone in dict.fromkeys(record.phones):
            if not placeholders.is_placeholder_phone(phone):
                by_phone[phone].append(i)

    found = _detect(records, by_email, placeholders, placeholder_threshold)
    found += _detect(records, by_phone, placeholders, placeholder_threshold)
    for value in found:
        by_email.pop(value, None)
        by_phone.pop(value, None)

    index = {r.key: i for i, r in enumerate(records)}
    apart: dict[int, set[int]] = defaultdict(set)
    for a, b in keep_apart:
        if a in index and b in index:
            apart[index[a]].add(index[b])
            apart[index[b]].add(index[a])

    comps = _Components(records)
    result = Resolution(
        clusters=[], placeholders_found={v: placeholders.detected[v] for v in found}
    )

    def join(i: int, j: int, reason: str) -> None:
        ri, rj = comps.find(i), comps.find(j)
        if ri == rj:
            return
        link = Link(records[i].key, records[j].key, reason)
        veto = _veto(comps, ri, rj, limits, apart)
        if veto:
            result.conflicts.append(Link(link.a, link.b, f"{reason}; kept apart: {veto}"))
            return
        comps.union(ri, rj)
        result.links.append(link)

    for a, b in keep_together:
        # An operator's merge: joined first and without limits, because a person decided.
        if a in index and b in index:
            ra, rb = comps.find(index[a]), comps.find(index[b])
            if ra != rb:
                comps.union(ra, rb)
                result.links.append(Link(a, b, "merged by an operator"))

    for email in sorted(by_email):
        holders = by_email[email]
        for j in holders[1:]:
            join(holders[0], j, "same email")

    for phone in sorted(by_phone):
        holders = by_phone[phone]
        by_name: dict[str, list[int]] = defaultdict(list)
        for i in holders:
            name = records[i].name
            if name:
                by_name[name].append(i)
        for same in by_name.values():
            for j in same[1:]:
                join(same[0], j, "same phone and full name")
        roots = {comps.find(i) for i in holders}
        if len(roots) > 1:
            firsts = sorted({comps.find(i): i for i in holders}.values())
            for j in firsts[1:]:
                result.possible_duplicates.append(
                    Link(records[firsts[0]].key, records[j].key, "shares a phone number")
                )

    seen: set[int] = set()
    for i in range(len(records)):
        root = comps.find(i)
        if root not in seen:
            seen.add(root)
            result.clusters.append([records[m] for m in sorted(comps.members[root])])
    return result


def _detect(
    records: Sequence[IdentityFacts],
    holders: dict[str, list[int]],
    placeholders: Placeholders,
    threshold: int,
) -> list[str]:
    """Values shared by more than ``threshold`` different people (told apart by name, or by
    record when there is no name) are placeholders."""
    people: dict[str, set[str]] = {}
    for value, indices in holders.items():
        if len(indices) > threshold:
            people[value] = {
                records[i].name or f"{records[i].source}:{records[i].source_id}" for i in indices
            }
    return placeholders.detect(people, threshold)


def _veto(
    comps: _Components, a: int, b: int, limits: Mapping[Source, int], apart: dict[int, set[int]]
) -> str | None:
    for source, count in (comps.sources[a] + comps.sources[b]).items():
        limit = limits.get(source)
        if limit is not None and count > limit:
            return f"more than {limit} {source} record(s) in one profile"
    if apart:
        members_b = set(comps.members[b])
        for m in comps.members[a]:
            if apart.get(m, set()) & members_b:
                return "split by unmerge"
    return None
