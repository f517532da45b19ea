"""``customerSegment``: the people a filter describes, a page at a time, from the store only.

Members are found in the segment facts (indexed) and served as the profiles stored for
them, through the request's loader of stored documents, without a rebuild: a segment page
makes no upstream call, however many members are stale (their ``cache.stale`` says so, and
the next ordinary read of them refreshes them). Internal tokens only.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from resolvers.customers.ports import CustomerRequest
from resolvers.customers.profile import from_body
from resolvers.customers.queries import profile_docs
from resolvers.customers.service import Served
from resolvers.errors import BadUserInput, Forbidden, check_page_size
from resolvers.model import ProfileDoc
from resolvers.segments.filters import CustomerFilter, build
from resolvers.viewer import Role


@dataclass(frozen=True, slots=True)
class Member:
    cursor: str
    served: Served


@dataclass(frozen=True, slots=True)
class SegmentPage:
    members: list[Member]
    has_next: bool
    #: Every member of the segment, whatever the page.
    total: int
    #: After the page's last member found, also when it was left out (see below).
    end_cursor: str | None


def encode_cursor(profile_id: str) -> str:
    return base64.urlsafe_b64encode(profile_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The profile id a cursor was made from; anything that is not one is refused rather
    than read as some other position."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        profile_id = raw.decode()
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadUserInput("malformed cursor", extensions={"argument": "after"}) from exc
    if not profile_id or not profile_id.isprintable():
        raise BadUserInput("malformed cursor", extensions={"argument": "after"})
    return profile_id


async def customer_segment(
    ctx: CustomerRequest,
    where: CustomerFilter,
    *,
    first: int = 50,
    after: str | None = None,
    now: datetime | None = None,
) -> SegmentPage:
    if ctx.viewer.role is not Role.INTERNAL:
        raise Forbidden("Segments are for internal tokens only.")
    check_page_size(first, ctx.services.config.max_page_size)
    tree = build(where, now or datetime.now(UTC))
    start = decode_cursor(after) if after else None
    page = await ctx.services.store.segments.find_facts(tree, first=first, after=start)
    ids = [f.profile_id for f in page.facts]
    docs: list[ProfileDoc | None] = await profile_docs(ctx).load_many(ids)
    customers = ctx.services.customers
    members = [
        Member(encode_cursor(doc.id), Served(from_body(doc.body), stale=customers.is_stale(doc)))
        for doc in docs
        # A member retired since its facts were read (a merge in between) is left out.
        if doc is not None and doc.body
    ]
    return SegmentPage(
        members=members,
        has_next=page.has_next,
        total=page.total,
        end_cursor=encode_cursor(ids[-1]) if ids else None,
    )
