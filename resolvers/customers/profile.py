"""The unified profile and how it is built from source records.

Building is a pure function of the records, so it is tested without any upstream, and a
rebuild after a webhook gives exactly what a fresh sync would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from connectors import vendors as registry
from connectors.records import (
    Address,
    Channel,
    Consent,
    ConsentState,
    CustomerRecord,
    Engagement,
    MarketingProfile,
    OrderRecord,
    RefundState,
    Source,
)
from resolvers.identity.normalize import name_tokens, normalize_email, normalize_phone

#: Orders kept in the cached profile; older ones are still counted in the stats.
MAX_CACHED_ORDERS = 200


@dataclass(frozen=True, slots=True)
class ChannelStats:
    order_count: int = 0
    spend: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ConsentView:
    state: ConsentState = ConsentState.UNKNOWN
    can_receive: bool = False
    updated_at: datetime | None = None
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: Source
    ok: bool
    code: str | None = None


@dataclass(slots=True)
class UnifiedProfile:
    id: str
    first_name: str | None = None
    last_name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    identities: list[tuple[Source, str]] = field(default_factory=list)
    email_consent: ConsentView = field(default_factory=ConsentView)
    sms_consent: ConsentView = field(default_factory=ConsentView)
    currency: str = "USD"
    lifetime_value: Decimal = Decimal(0)
    online: ChannelStats = field(default_factory=ChannelStats)
    in_store: ChannelStats = field(default_factory=ChannelStats)
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    favourite_location_id: str | None = None
    last_opened_at: datetime | None = None
    last_clicked_at: datetime | None = None
    last_event_at: datetime | None = None
    orders: list[OrderRecord] = field(default_factory=list)
    #: Unified ids of the stores where this person has activity: an order there (also one
    #: older than the cached orders), or an upstream record a POS created there. Store-bound
    #: staff tokens see the profile by it (``resolvers/customers/visibility.py``).
    locations: list[str] = field(default_factory=list)
    refreshed_at: datetime | None = None
    sources: list[SourceStatus] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or (self.emails[0] if self.emails else "Customer")

    @property
    def order_count(self) -> int:
        return self.online.order_count + self.in_store.order_count

    @property
    def is_omnichannel(self) -> bool:
        return self.online.order_count > 0 and self.in_store.order_count > 0

    def lookup_names(self) -> list[str]:
        """Name keys for prefix lookup: each token and the full name, lower-case."""
        tokens = name_tokens(self.first_name, self.last_name)
        full = " ".join(tokens)
        return sorted({*tokens, full}) if tokens else []


def build_profile(
    profile_id: str,
    *,
    customers: Sequence[CustomerRecord],
    orders: Iterable[OrderRecord],
    marketing: Sequence[MarketingProfile] = (),
    engagement: Sequence[Engagement] = (),
    region: str = "US",
    refreshed_at: datetime,
    sources: Sequence[SourceStatus] = (),
    placeholder: Any = None,
) -> UnifiedProfile:
    """Merge every record known for one person.

    ``placeholder`` (a :class:`~resolvers.identity.placeholders.Placeholders`) keeps values
    like ``none@none.com`` out of the profile's contact data.
    """
    # Names and addresses from the source whose vendor declares the higher precedence first
    # (the online store is where people type them themselves; a cashier types a POS record).
    precedence = registry.name_precedence()
    ranked = sorted(customers, key=lambda c: precedence.get(c.source, registry.LAST))
    people: list[CustomerRecord | MarketingProfile] = [*ranked, *marketing]

    profile = UnifiedProfile(id=profile_id, refreshed_at=refreshed_at, sources=list(sources))
    profile.identities = sorted(
        {(c.source, c.id) for c in customers} | {(m.source, m.id) for m in marketing},
        key=lambda k: (k[0].value, k[1]),
    )
    named = next((p for p in people if p.first_name or p.last_name), None)
    if named is not None:
        profile.first_name, profile.last_name = named.first_name, named.last_name

    emails: dict[str, None] = {}
    phones: dict[str, None] = {}
    for person in people:
        raw_emails = person.emails if isinstance(person, CustomerRecord) else (person.email,)
        raw_phones = person.phones if isinstance(person, CustomerRecord) else (person.phone,)
        for raw in raw_emails:
            email = normalize_email(raw)
            if email and not (placeholder and placeholder.is_placeholder_email(email)):
                emails[email] = None
        for raw in raw_phones:
            phone = normalize_phone(raw, region)
            if phone and not (placeholder and placeholder.is_placeholder_phone(phone)):
                phones[phone] = None
    profile.emails, profile.phones = list(emails), list(phones)
    addresses: dict[Address, None] = {}
    for customer in ranked:
        for address in customer.addresses:
            addresses[address] = None
    profile.addresses = list(addresses)

    profile.email_consent = _latest_consent(
        [(p.source, p.email_consent) for p in people if p.email_consent]
    )
    profile.sms_consent = _latest_consent(
        [(p.source, p.sms_consent) for p in people if p.sms_consent]
    )

    orders = list(orders)
    _order_stats(profile, orders)
    profile.locations = sorted(
        {o.location_id for o in orders if o.location_id and not o.cancelled}
        | {c.location_id for c in customers if c.location_id}
    )
    for e in engagement:
        profile.last_opened_at = _max(profile.last_opened_at, e.last_opened_at)
        profile.last_clicked_at = _max(profile.last_clicked_at, e.last_clicked_at)
        profile.last_event_at = _max(profile.last_event_at, e.last_event_at)
    return profile


def _order_stats(profile: UnifiedProfile, orders: Iterable[OrderRecord]) -> None:
    unique = {(o.source, o.id): o for o in orders if not o.cancelled}
    ordered = sorted(unique.values(), key=lambda o: o.created_at, reverse=True)
    if not ordered:
        return
    currencies = Counter(o.total.currency for o in ordered)
    profile.currency = currencies.most_common(1)[0][0]
    counted = [o for o in ordered if o.total.currency == profile.currency]
    counts: Counter[Channel] = Counter()
    spend: dict[Channel, Decimal] = {Channel.ONLINE: Decimal(0), Channel.IN_STORE: Decimal(0)}
    stores: Counter[str] = Counter()
    for order in counted:
        counts[order.channel] += 1
        spend[order.channel] += order.net.amount
        if order.channel is Channel.IN_STORE and order.location_id:
            stores[order.location_id] += 1
    profile.online = ChannelStats(counts[Channel.ONLINE], spend[Channel.ONLINE])
    profile.in_store = ChannelStats(counts[Channel.IN_STORE], spend[Channel.IN_STORE])
    profile.lifetime_value = profile.online.spend + profile.in_store.spend
    profile.first_order_at = ordered[-1].created_at
    profile.last_order_at = ordered[0].created_at
    if stores:
        # Most visits wins; ties go to the most recently visited store.
        recent = {o.location_id: i for i, o in reversed(list(enumerate(counted)))}
        profile.favourite_location_id = min(
            stores, key=lambda loc: (-stores[loc], recent.get(loc, 0))
        )
    profile.orders = ordered[:MAX_CACHED_ORDERS]


def _latest_consent(consents: list[tuple[Source, Consent | None]]) -> ConsentView:
    """The most recent explicit statement wins: a person who unsubscribed by email yesterday
    is unsubscribed, whatever the POS recorded last year. Undated states rank last."""
    best: ConsentView = ConsentView()
    best_key: tuple[int, datetime] | None = None
    for source, consent in consents:
        if consent is None or consent.state is ConsentState.UNKNOWN:
            continue
        key = (1 if consent.updated_at else 0, consent.updated_at or datetime.min)
        if best_key is None or key > best_key:
            best_key = key
            best = ConsentView(
                state=consent.state,
                can_receive=consent.can_receive and not consent.suppressed,
                updated_at=consent.updated_at,
                source=source,
            )
    return best


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


# --- serialisation to the store's opaque body ---------------------------------------------------

#: The profile's body codec. pydantic compiles the dataclasses (and the records they hold) into
#: one serializer and one validator, in Rust: several times faster than walking them in Python
#: (see docs/performance.md), and the body's shape is the dataclasses' own, with nothing to keep
#: in step by hand. Decimals are strings, datetimes ISO 8601, enums their values, tuples lists.
_BODY: TypeAdapter[UnifiedProfile] = TypeAdapter(UnifiedProfile)


def to_body(profile: UnifiedProfile) -> dict[str, Any]:
    """A JSON-safe dict (MongoDB-safe too: no Decimal, no tuples as keys)."""
    body = _BODY.dump_python(profile, mode="json")
    assert isinstance(body, dict)
    return body


def from_body(body: dict[str, Any]) -> UnifiedProfile:
    """The profile stored as ``body``, by this code or an earlier one: fields added since have
    their defaults, and earlier datetimes (``+00:00`` rather than ``Z``) read the same."""
    if "locations" not in body:
        body = {**body, "locations": body_locations(body)}
    return _BODY.validate_python(body)


def body_locations(body: dict[str, Any]) -> list[str]:
    """The profile's activity locations, read from a stored body without building the whole
    profile (lookups filter many bodies by it). A body stored before the field existed
    falls back to its cached orders' locations."""
    if "locations" in body:
        return list(body["locations"])
    return sorted({o["location_id"] for o in body.get("orders", []) if o.get("location_id")})


__all__ = [
    "MAX_CACHED_ORDERS",
    "ChannelStats",
    "ConsentView",
    "RefundState",
    "SourceStatus",
    "UnifiedProfile",
    "body_locations",
    "build_profile",
    "from_body",
    "to_body",
]
