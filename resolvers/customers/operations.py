"""Operator operations as the schema calls them: each one changes identities through
``ProfileAdmin`` and then rebuilds the profiles it touched, so the answer is current."""

from __future__ import annotations

from resolvers.customers.ports import CustomerRequest
from resolvers.customers.profile import from_body
from resolvers.customers.service import Served
from resolvers.errors import NotFound


async def _rebuilt(ctx: CustomerRequest, profile_id: str) -> Served:
    service = ctx.services.customers
    doc = await service.refresh(profile_id, service.new_loaders())
    if doc is None or not doc.body:
        raise NotFound(f"no customer {profile_id}", extensions={"id": profile_id})
    return Served(from_body(doc.body), stale=service.is_stale(doc))


async def merge_customers(ctx: CustomerRequest, ids: list[str]) -> Served:
    target = await ctx.services.admin.merge(ids, actor=ctx.viewer.name)
    return await _rebuilt(ctx, target)


async def unmerge_customer(ctx: CustomerRequest, profile_id: str) -> list[Served]:
    restored = await ctx.services.admin.unmerge(profile_id, actor=ctx.viewer.name)
    return [await _rebuilt(ctx, pid) for pid in restored]


async def refresh_customer(ctx: CustomerRequest, profile_id: str) -> Served:
    return await _rebuilt(ctx, profile_id)


async def erase_customer(ctx: CustomerRequest, profile_id: str) -> int:
    erased = await ctx.services.admin.erase(profile_id)
    return len(erased)
