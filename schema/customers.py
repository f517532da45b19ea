"""Customer 360 types and the fields that reach them."""

from __future__ import annotations

import base64
import enum
from datetime import datetime
from decimal import Decimal

import strawberry

from connectors.records import Channel as ChannelRecord
from connectors.records import OrderRecord
from resolvers.context import RequestContext
from resolvers.customers.profile import ConsentView, UnifiedProfile
from resolvers.customers.queries import get_customer, lookup_customers, possible_duplicates
from resolvers.customers.service import Served
from resolvers.customers.visibility import order_in_full, require_visible
from resolvers.errors import BadUserInput, Forbidden, Unauthenticated, check_page_size
from resolvers.loyalty import codes
from resolvers.viewer import Role
from schema.holds import PickupHold, customer_holds
from schema.locations import Address, Location
from schema.loyalty import Loyalty, customer_loyalty
from schema.permissions import guarded
from schema.sources import SourceName, source_name

Info = strawberry.Info[RequestContext, None]


@strawberry.enum
class Channel(enum.Enum):
    ONLINE = "online"
    IN_STORE = "in_store"


@strawberry.enum
class ConsentState(enum.Enum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    NEVER_SUBSCRIBED = "never_subscribed"
    PENDING = "pending"
    UNKNOWN = "unknown"


@strawberry.enum
class RefundState(enum.Enum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


@strawberry.type(description="An amount in a currency. `amount` is a decimal string.")
class Money:
    amount: Decimal
    currency_code: str


@strawberry.type(description="One upstream record that belongs to this customer.")
class SourceIdentity:
    source: SourceName
    id: str


@strawberry.type
class ChannelConsent:
    state: ConsentState
    can_receive: bool
    updated_at: datetime | None
    source: SourceName | None

    @classmethod
    def of(cls, c: ConsentView) -> ChannelConsent:
        return cls(
            state=ConsentState(c.state.value),
            can_receive=c.can_receive,
            updated_at=c.updated_at,
            source=source_name(c.source) if c.source else None,
        )


@strawberry.type
class Consent:
    email: ChannelConsent
    sms: ChannelConsent


@strawberry.type
class ChannelStats:
    order_count: int
    spend: Money


@strawberry.type
class CustomerStats:
    lifetime_value: Money = strawberry.field(description="Spend net of refunds, all channels.")
    order_count: int
    online: ChannelStats
    in_store: ChannelStats
    first_order_at: datetime | None
    last_order_at: datetime | None
    favourite_location: Location | None = strawberry.field(
        description="The store this customer bought in most often."
    )
    is_omnichannel: bool = strawberry.field(description="Bought both online and in a store.")


@strawberry.type
class Marketing:
    last_opened_at: datetime | None
    last_clicked_at: datetime | None
    last_event_at: datetime | None


@strawberry.type
class LineItem:
    sku: str | None
    title: str
    quantity: int
    unit_price: Money
    refunded_quantity: int


@strawberry.type(
    description="An order. A store-bound staff token sees another store's orders (and online "
    "ones) as summaries: `summary` is true, `name` and `lineItems` are null."
)
class Order:
    id: strawberry.ID
    name: str | None
    channel: Channel
    source: SourceName
    location: Location | None
    created_at: datetime
    total: Money
    refunded: Money | None
    net: Money
    refund_state: RefundState
    line_items: list[LineItem] | None = strawberry.field(
        description="Null on a summary (another store's order, seen by a store-bound token)."
    )
    summary: bool = strawberry.field(
        description="Only the summary of this order is shown to this token."
    )

    @classmethod
    def of(cls, o: OrderRecord, *, full: bool = True) -> Order:
        return cls(
            id=strawberry.ID(_encode(f"order:{o.source.value}:{o.id}")),
            name=o.name if full else None,
            channel=Channel(o.channel.value),
            source=source_name(o.source),
            location=Location(id=strawberry.ID(o.location_id)) if o.location_id else None,
            created_at=o.created_at,
            total=Money(amount=o.total.amount, currency_code=o.total.currency),
            refunded=Money(amount=o.refunded.amount, currency_code=o.refunded.currency)
            if o.refunded
            else None,
            net=Money(amount=o.net.amount, currency_code=o.net.currency),
            refund_state=RefundState(o.refund_state.value),
            line_items=[
                LineItem(
                    sku=li.sku,
                    title=li.title,
                    quantity=li.quantity,
                    unit_price=Money(
                        amount=li.unit_price.amount, currency_code=li.unit_price.currency
                    ),
                    refunded_quantity=li.refunded_quantity,
                )
                for li in o.line_items
            ]
            if full
            else None,
            summary=not full,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class SourceHealth:
    source: SourceName
    ok: bool
    code: str | None


@strawberry.type(description="Another customer the resolver kept apart from this one.")
class PossibleDuplicate:
    customer_id: strawberry.ID
    reason: str = strawberry.field(
        description="Why they look alike and why they were not merged, e.g. a shared phone."
    )


@strawberry.type
class CacheInfo:
    refreshed_at: datetime | None
    stale: bool = strawberry.field(
        description="Served from cache past its freshness, or while a source fails."
    )
    sources: list[SourceHealth]


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("malformed cursor", extensions={"argument": "after"}) from exc


@strawberry.federation.type(
    keys=["id"],
    description="One person, across every channel. A store-bound staff token sees the "
    "customers of its stores, and those it finds by exact email or phone.",
)
class Customer:
    id: strawberry.ID
    served: strawberry.Private[Served]
    #: Found by ``customerLookup`` with this customer's exact email or phone.
    exact_match: strawberry.Private[bool] = False

    @property
    def _p(self) -> UnifiedProfile:
        return self.served.profile

    def _guard(self, info: Info) -> None:
        """Every field with personal data or orders asks the visibility rule, whatever path
        (``customer``, ``customerLookup``, ``_entities``, ``viewer``) led here."""
        require_visible(info.context.viewer, self._p, exact_match=self.exact_match)

    @strawberry.field
    def display_name(self, info: Info) -> str:
        self._guard(info)
        return self._p.display_name

    @strawberry.field(description="Normalised email addresses.")
    def emails(self, info: Info) -> list[str]:
        self._guard(info)
        return list(self._p.emails)

    @strawberry.field(description="Phones in E.164.")
    def phones(self, info: Info) -> list[str]:
        self._guard(info)
        return list(self._p.phones)

    @strawberry.field
    def addresses(self, info: Info) -> list[Address]:
        self._guard(info)
        return [Address.of(a) for a in self._p.addresses]

    @strawberry.field
    def identities(self, info: Info) -> list[SourceIdentity]:
        self._guard(info)
        return [SourceIdentity(source=source_name(s), id=i) for s, i in self._p.identities]

    @strawberry.field
    def consent(self, info: Info) -> Consent:
        self._guard(info)
        return Consent(
            email=ChannelConsent.of(self._p.email_consent),
            sms=ChannelConsent.of(self._p.sms_consent),
        )

    @strawberry.field
    def stats(self, info: Info) -> CustomerStats:
        self._guard(info)
        p = self._p
        cur = p.currency
        return CustomerStats(
            lifetime_value=Money(amount=p.lifetime_value, currency_code=cur),
            order_count=p.order_count,
            online=ChannelStats(
                order_count=p.online.order_count,
                spend=Money(amount=p.online.spend, currency_code=cur),
            ),
            in_store=ChannelStats(
                order_count=p.in_store.order_count,
                spend=Money(amount=p.in_store.spend, currency_code=cur),
            ),
            first_order_at=p.first_order_at,
            last_order_at=p.last_order_at,
            favourite_location=Location(id=strawberry.ID(p.favourite_location_id))
            if p.favourite_location_id
            else None,
            is_omnichannel=p.is_omnichannel,
        )

    @strawberry.field
    def marketing(self, info: Info) -> Marketing:
        self._guard(info)
        p = self._p
        return Marketing(
            last_opened_at=p.last_opened_at,
            last_clicked_at=p.last_clicked_at,
            last_event_at=p.last_event_at,
        )

    @strawberry.field(
        description="Orders from every channel, newest first. A store-bound staff token sees "
        "its stores' orders in full and the others as summaries."
    )
    def orders(
        self,
        info: Info,
        first: int = 10,
        after: str | None = None,
        channel: Channel | None = None,
    ) -> OrderConnection:
        self._guard(info)
        check_page_size(first, info.context.services.config.max_page_size)
        orders = self._p.orders
        if channel is not None:
            orders = [o for o in orders if o.channel is ChannelRecord(channel.value)]
        start = 0
        if after:
            kind, _, offset = _decode(after).partition(":")
            if kind != "o" or not offset.isdigit():
                raise BadUserInput("malformed cursor", extensions={"argument": "after"})
            start = int(offset) + 1
        page = orders[start : start + first]
        viewer = info.context.viewer
        edges = [
            OrderEdge(
                cursor=_encode(f"o:{start + i}"),
                node=Order.of(o, full=order_in_full(viewer, self._p, o)),
            )
            for i, o in enumerate(page)
        ]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=start + first < len(orders),
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=len(orders),
        )

    @strawberry.field(
        description="Customers that look like this one but were kept apart, with the reason; "
        "an operator decides with mergeCustomers."
    )
    async def possible_duplicates(self, info: Info) -> list[PossibleDuplicate]:
        self._guard(info)
        return [
            PossibleDuplicate(customer_id=strawberry.ID(other), reason=reason)
            for other, reason in await possible_duplicates(info.context, self._p.id)
        ]

    @strawberry.field(
        description="Pickup holds for this customer, newest first (a store-bound staff token: "
        "those at its stores)."
    )
    async def pickup_holds(self, info: Info, first: int = 20) -> list[PickupHold]:
        self._guard(info)
        check_page_size(first, info.context.services.config.max_page_size)
        return await customer_holds(info, self._p.id, first)

    @strawberry.field(description="Points, pending points and the ledger behind them.")
    async def loyalty(self, info: Info) -> Loyalty:
        self._guard(info)
        return await customer_loyalty(info, self._p.id, self._p.orders)

    @strawberry.field(
        description="The code this customer gives friends: a new customer who uses it (at "
        "checkout as a discount code, or at a till) earns both of them the referral bonus."
    )
    def referral_code(self, info: Info) -> str:
        self._guard(info)
        return codes.referral_code(self._p.id)

    @strawberry.field
    def cache(self) -> CacheInfo:
        return CacheInfo(
            refreshed_at=self._p.refreshed_at,
            stale=self.served.stale,
            sources=[
                SourceHealth(source=source_name(s.source), ok=s.ok, code=s.code)
                for s in self._p.sources
            ],
        )

    @classmethod
    def of(cls, served: Served, *, exact_match: bool = False) -> Customer:
        return cls(id=strawberry.ID(served.profile.id), served=served, exact_match=exact_match)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Customer | None:
        viewer = info.context.viewer
        if not viewer.authenticated:
            raise Unauthenticated("A bearer token is required.")
        if not viewer.may_read_pii:
            raise Forbidden("customers need a staff or internal token")
        served = await get_customer(info.context, str(id))
        return cls.of(served) if served else None


def _path(info: Info) -> tuple[str | int, ...]:
    return tuple(info.path.as_list())


STAFF = (Role.STAFF, Role.INTERNAL)


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="One customer by unified id.",
        extensions=guarded(*STAFF),
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        served = await get_customer(info.context, str(id), path=_path(info))
        return Customer.of(served) if served else None

    @strawberry.field(
        description="Counter lookup by email, phone in any format, or name prefix; "
        "exact matches first. Served from the cache.",
        extensions=guarded(*STAFF),
    )
    async def customer_lookup(self, info: Info, query: str, first: int = 10) -> list[Customer]:
        found = await lookup_customers(info.context, query, first, path=_path(info))
        return [Customer.of(f.served, exact_match=f.exact_match) for f in found]


__all__ = ["Customer", "CustomerQuery", "Location", "Money"]
