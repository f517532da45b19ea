"""The decisions behind the customer fields: who may see what, and where it comes from."""

from __future__ import annotations

from resolvers.context import RequestContext
from resolvers.customers.lookup import lookup
from resolvers.customers.service import Served
from resolvers.errors import check_page_size
from resolvers.model import ProfileDoc
from resolvers.partial import PartialError, report


def _profile_docs(ctx: RequestContext):  # type: ignore[no-untyped-def]
    store = ctx.services.store

    async def load(ids: list[str]) -> list[ProfileDoc | None]:
        found = await store.get_profiles(ids)
        return [found.get(i) for i in ids]

    return ctx.loaders.get("profile_docs", load)


async def get_customer(
    ctx: RequestContext, profile_id: str, *, path: tuple[str | int, ...] | None = None
) -> Served | None:
    doc = await _profile_docs(ctx).load(profile_id)
    served = await ctx.services.customers.serve(doc, profile_id, ctx.loaders)
    if served is not None:
        report_source_errors(served, path)
    return served


async def lookup_customers(
    ctx: RequestContext, query: str, first: int, *, path: tuple[str | int, ...] | None = None
) -> list[Served]:
    check_page_size(first, ctx.services.config.max_page_size)
    docs = await lookup(
        ctx.services.store, query, first=first, region=ctx.services.config.default_phone_region
    )
    results = []
    for doc in docs:
        served = await ctx.services.customers.serve(doc, doc.id, ctx.loaders)
        if served is not None:
            report_source_errors(served, path)
            results.append(served)
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


async def possible_duplicates(ctx: RequestContext, profile_id: str) -> list[tuple[str, str]]:
    """(other profile id, reason) for each pair the resolver kept apart but flagged, whose
    other side still exists (a merge or erasure since makes the flag moot)."""
    store = ctx.services.store
    found: dict[str, str] = {}
    for entry in await store.merge_log(profile_id):
        if entry.action != "possible_duplicate":
            continue
        for other in entry.profile_ids:
            if other != profile_id:
                found.setdefault(other, entry.reason)
    alive = await store.identities_of(sorted(found))
    return [(other, reason) for other, reason in sorted(found.items()) if alive.get(other)]
