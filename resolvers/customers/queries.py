"""The decisions behind the customer fields: who may see what, and where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.customers.lookup import lookup
from resolvers.customers.ports import CustomerRequest
from resolvers.customers.profile import body_locations
from resolvers.customers.service import Served
from resolvers.customers.visibility import is_exact_match, may_see, require_visible
from resolvers.errors import check_page_size
from resolvers.model import ProfileDoc
from resolvers.partial import PartialError, report


def profile_docs(ctx: CustomerRequest):  # type: ignore[no-untyped-def]
    """The request's loader of stored profile documents by id (no build, no upstream)."""
    store = ctx.services.store

    async def load(ids: list[str]) -> list[ProfileDoc | None]:
        found = await store.profiles.get_profiles(ids)
        return [found.get(i) for i in ids]

    return ctx.loaders.get("profile_docs", load)


async def get_customer(
    ctx: CustomerRequest, profile_id: str, *, path: tuple[str | int, ...] | None = None
) -> Served | None:
    """One customer by id, if the viewer may see it (``FORBIDDEN`` otherwise)."""
    doc = await profile_docs(ctx).load(profile_id)
    served = await ctx.services.customers.serve(doc, profile_id, ctx.loaders)
    if served is not None:
        require_visible(ctx.viewer, served.profile)
        report_source_errors(served, path)
    return served


@dataclass(frozen=True, slots=True)
class Found:
    """A counter lookup result; ``exact_match``: the query was its exact email or phone,
    which shows a store-bound token a customer of another store."""

    served: Served
    exact_match: bool


async def lookup_customers(
    ctx: CustomerRequest, query: str, first: int, *, path: tuple[str | int, ...] | None = None
) -> list[Found]:
    """Counter lookup. Exact email or phone matches are shown to any staff token; name
    matches only if the viewer may see them (customers of its stores)."""
    check_page_size(first, ctx.services.config.max_page_size)
    region = ctx.services.config.default_phone_region
    viewer = ctx.viewer

    def exact(doc: ProfileDoc) -> bool:
        return is_exact_match(query, doc.emails, doc.phones, region)

    def keep(doc: ProfileDoc) -> bool:
        return may_see(viewer, doc.id, body_locations(doc.body), exact_match=exact(doc))

    docs = await lookup(
        ctx.services.store.profiles,
        query,
        first=first,
        region=region,
        keep=None if viewer.every_store else keep,
    )
    results = []
    for doc in docs:
        served = await ctx.services.customers.serve(doc, doc.id, ctx.loaders)
        if served is None:
            continue
        match = exact(doc)
        if not may_see(viewer, served.profile.id, served.profile.locations, exact_match=match):
            continue  # an email or phone lookup whose match is not exact (defensive)
        report_source_errors(served, path)
        results.append(Found(served, match))
    return results


def report_source_errors(served: Served, path: tuple[str | int, ...] | None) -> None:
    """A profile served while a source fails carries an error naming that source."""
    for status in served.failed_sources:
        report(
            PartialError(
                message=f"{status.source.value} is unavailable; serving cached data",
                code=status.code or "UPSTREAM_UNAVAILABLE",
                path=path,
                extensions=(("source", status.source.value), ("customerId", served.profile.id)),
            )
        )


async def possible_duplicates(ctx: CustomerRequest, profile_id: str) -> list[tuple[str, str]]:
    """(other profile id, reason) for each pair the resolver kept apart but flagged, whose
    other side still exists (a merge or erasure since makes the flag moot)."""
    store = ctx.services.store
    found: dict[str, str] = {}
    for entry in await store.identities.merge_log(profile_id):
        if entry.action != "possible_duplicate":
            continue
        for other in entry.profile_ids:
            if other != profile_id:
                found.setdefault(other, entry.reason)
    alive = await store.identities.identities_of(sorted(found))
    return [(other, reason) for other, reason in sorted(found.items()) if alive.get(other)]
