"""``customerSegment(filter, first, after)``: the customers a filter describes, and saved
segments (``saveSegment``, ``segments``, ``segment``; internal tokens only). The filter's
rules are :mod:`resolvers.segments.filters`, the query's :mod:`resolvers.segments.query`,
saved segments' :mod:`resolvers.segments.saved`; this module maps them in and out."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

import strawberry
from strawberry.scalars import JSON

from connectors.records import Source
from resolvers.context import RequestContext
from resolvers.segments import codec, filters, saved
from resolvers.segments.query import SegmentPage, customer_segment
from resolvers.store.saved_segments import SavedSegment
from resolvers.store.segments import ChannelMix
from resolvers.viewer import Role
from schema.customers import Customer, PageInfo
from schema.permissions import guarded
from schema.sources import SourceName

Info = strawberry.Info[RequestContext, None]


@strawberry.enum(description="The channels a customer bought in.")
class CustomerChannelMix(enum.Enum):
    ONLINE_ONLY = "online_only"
    IN_STORE_ONLY = "in_store_only"
    BOTH = "both"


@strawberry.input(description="Inclusive bounds; either may be left out, not both.")
class IntRange:
    min: int | None = None
    max: int | None = None

    def to_range(self) -> filters.IntRange:
        return filters.IntRange(min=self.min, max=self.max)


@strawberry.input(
    description="Inclusive bounds on an amount in the shop currency (as `stats."
    "lifetimeValue`); either may be left out, not both."
)
class AmountRange:
    min: Decimal | None = None
    max: Decimal | None = None


@strawberry.input(
    description="A condition on a date. Those given must all hold; a customer without the "
    "date (no order) matches none."
)
class DateCondition:
    before: datetime | None = strawberry.field(default=None, description="Strictly before.")
    after: datetime | None = strawberry.field(default=None, description="At or after.")
    within_days: int | None = strawberry.field(
        default=None, description="At or after now minus this many days (now: the query's)."
    )
    not_within_days: int | None = strawberry.field(
        default=None,
        description="Before now minus this many days: e.g. `lastOrder: {notWithinDays: 90}` "
        "for the lapsed.",
    )


@strawberry.input(
    name="CustomerFilter",
    description="Every condition set here must hold (AND); `all` adds filters that must all "
    "hold, `any` filters of which at least one must (OR). At least one condition. Answered "
    "from each customer's segment facts as of their last profile build (see docs/"
    "segments.md); relative dates are current at the query.",
)
class CustomerFilterInput:
    all_: list[CustomerFilterInput] | None = strawberry.field(default=None, name="all")
    any_: list[CustomerFilterInput] | None = strawberry.field(default=None, name="any")
    channel: CustomerChannelMix | None = strawberry.field(
        default=None, description="Bought online only, in store only, or in both."
    )
    lifetime_value: AmountRange | None = None
    order_count: IntRange | None = None
    first_order: DateCondition | None = None
    last_order: DateCondition | None = None
    favourite_store: strawberry.ID | None = strawberry.field(
        default=None, description="The store they bought in most often (`stats.favouriteLocation`)."
    )
    bought_at_store: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bought in store at one of these locations (at most 100)."
    )
    bought_skus: list[str] | None = strawberry.field(
        default=None, description="Bought one of these SKUs, in any channel (at most 100)."
    )
    email_consent: bool | None = strawberry.field(
        default=None, description="Can receive email (`consent.email.canReceive`), or not."
    )
    sms_consent: bool | None = strawberry.field(
        default=None, description="Can receive SMS (`consent.sms.canReceive`), or not."
    )
    loyalty_tier: list[str] | None = strawberry.field(
        default=None,
        description="In one of these loyalty tiers, by name (`loyalty.tier.name`; at most 100).",
    )
    points: IntRange | None = strawberry.field(
        default=None, description="Spendable loyalty points (`loyalty.points`)."
    )
    in_source: SourceName | None = strawberry.field(
        default=None, description="Known to this vendor."
    )

    def to_filter(self) -> filters.CustomerFilter:
        def group(parts: list[CustomerFilterInput] | None) -> tuple[filters.CustomerFilter, ...]:
            return tuple(p.to_filter() for p in parts or ())

        def when(c: DateCondition | None) -> filters.When | None:
            if c is None:
                return None
            return filters.When(c.before, c.after, c.within_days, c.not_within_days)

        def values(v: list[str] | list[strawberry.ID] | None) -> tuple[str, ...] | None:
            return None if v is None else tuple(str(x) for x in v)

        lv = self.lifetime_value
        return filters.CustomerFilter(
            all=None if self.all_ is None else group(self.all_),
            any=None if self.any_ is None else group(self.any_),
            channel=ChannelMix(self.channel.value) if self.channel else None,
            lifetime_value=filters.AmountRange(lv.min, lv.max) if lv else None,
            order_count=self.order_count.to_range() if self.order_count else None,
            first_order=when(self.first_order),
            last_order=when(self.last_order),
            favourite_store=str(self.favourite_store) if self.favourite_store else None,
            bought_at_store=values(self.bought_at_store),
            bought_skus=values(self.bought_skus),
            email_consent=self.email_consent,
            sms_consent=self.sms_consent,
            loyalty_tier=values(self.loyalty_tier),
            points=self.points.to_range() if self.points else None,
            in_source=Source(str(self.in_source)) if self.in_source is not None else None,
        )


@strawberry.type
class CustomerSegmentEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerSegmentConnection:
    edges: list[CustomerSegmentEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Every member, whatever the page.")


def _connection(page: SegmentPage) -> CustomerSegmentConnection:
    return CustomerSegmentConnection(
        edges=[
            CustomerSegmentEdge(cursor=m.cursor, node=Customer.of(m.served)) for m in page.members
        ],
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        total_count=page.total,
    )


@strawberry.type(
    description="A saved segment: a named filter whose membership changes are announced by "
    "`segmentChanged`. Internal tokens only."
)
class Segment:
    saved: strawberry.Private[SavedSegment]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.saved.id)

    @strawberry.field(description="Unique among saved segments.")
    def name(self) -> str:
        return self.saved.name

    @strawberry.field(
        description="The filter as saved, in the `CustomerFilter` input's own form (it can be "
        "sent back as one); relative dates stay relative."
    )
    def filter(self) -> JSON:
        return cast(JSON, dict(self.saved.filter))

    @strawberry.field
    def created_at(self) -> datetime:
        return self.saved.created_at

    @strawberry.field(description="How many customers the filter describes now.")
    async def member_count(self, info: Info) -> int:
        return await saved.member_count(info.context.services, self.saved)

    @strawberry.field(
        description="The customers the filter describes now, as `customerSegment` pages them."
    )
    async def members(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> CustomerSegmentConnection:
        if saved.tree_of(self.saved, datetime.now(UTC)) is None:
            return _connection(SegmentPage(members=[], has_next=False, total=0, end_cursor=None))
        where = codec.load(self.saved.filter)
        return _connection(await customer_segment(info.context, where, first=first, after=after))


@strawberry.type
class SegmentMutation:
    @strawberry.mutation(
        description="Save a filter under a name; its present members are recorded silently, "
        "and each later change of membership is announced by `segmentChanged`. Errors: "
        "BAD_USER_INPUT (as `customerSegment`'s filter; a name empty or over 100 characters), "
        "CONFLICT (the name is taken), FORBIDDEN.",
        extensions=guarded(Role.INTERNAL),
    )
    async def save_segment(self, info: Info, name: str, filter: CustomerFilterInput) -> Segment:
        ctx = info.context
        return Segment(
            saved=await saved.save_segment(ctx.services, ctx.viewer, name, filter.to_filter())
        )

    @strawberry.mutation(
        description="Delete a saved segment and its recorded members; false if there was none.",
        extensions=guarded(Role.INTERNAL),
    )
    async def delete_segment(self, info: Info, id: strawberry.ID) -> bool:
        ctx = info.context
        return await saved.delete_segment(ctx.services, ctx.viewer, str(id))


@strawberry.type
class SegmentQuery:
    @strawberry.field(
        description="The customers a filter describes, in customer-id order, served from the "
        "store (no vendor is asked; a member's `cache.stale` says whether its profile is due "
        "for a rebuild). Internal tokens only. Errors: BAD_USER_INPUT (an empty filter or "
        "group, `min` above `max`, negative days, a list over 100 values, `first` over the "
        "page size, a malformed cursor), FORBIDDEN.",
        extensions=guarded(Role.INTERNAL),
    )
    async def customer_segment(
        self,
        info: Info,
        filter: CustomerFilterInput,
        first: int = 50,
        after: str | None = None,
    ) -> CustomerSegmentConnection:
        page = await customer_segment(info.context, filter.to_filter(), first=first, after=after)
        return _connection(page)

    @strawberry.field(
        description="Every saved segment, by name. Internal tokens only.",
        extensions=guarded(Role.INTERNAL),
    )
    async def segments(self, info: Info) -> list[Segment]:
        ctx = info.context
        return [Segment(saved=s) for s in await saved.list_segments(ctx.services, ctx.viewer)]

    @strawberry.field(
        description="A saved segment by id, or null. Internal tokens only.",
        extensions=guarded(Role.INTERNAL),
    )
    async def segment(self, info: Info, id: strawberry.ID) -> Segment | None:
        ctx = info.context
        found = await saved.get_segment(ctx.services, ctx.viewer, str(id))
        return Segment(saved=found) if found is not None else None


@strawberry.enum(description="Whether a customer came into a saved segment or left it.")
class SegmentChangeKind(enum.Enum):
    ENTERED = "entered"
    LEFT = "left"


@strawberry.type(description="One change of a saved segment's membership.")
class SegmentChange:
    segment_id: strawberry.ID
    customer_id: strawberry.ID
    change: SegmentChangeKind
    at: datetime = strawberry.field(description="When the change was recorded.")


@strawberry.type
class SegmentSubscription:
    @strawberry.subscription(
        description="Each customer entering or leaving the saved segment, as this gateway "
        "process records it (after a profile build, or the periodic sweep), from now on. "
        "With several replicas, each replica's subscribers hear the changes its own process "
        "recorded (see docs/segments.md). Errors: NOT_FOUND (no such segment), FORBIDDEN.",
        extensions=guarded(Role.INTERNAL),
    )
    async def segment_changed(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[SegmentChange, None]:
        ctx = info.context
        async for change in saved.segment_changes(ctx.services, ctx.viewer, str(id)):
            yield SegmentChange(
                segment_id=strawberry.ID(change.segment_id),
                customer_id=strawberry.ID(change.customer_id),
                change=SegmentChangeKind(change.change.value),
                at=change.at,
            )
