"""``generate(people, seed)``: the one demo world every vendor sandbox serves.

Determinism: everything comes from ``random.Random(seed)`` (data) and the world's
``IdFactory`` (ids, seeded from the same seed), and every timestamp is relative to the fixed
``DEMO_NOW``. Same arguments, equal worlds, on any day and machine.

The population: about 10% email subscribers who never bought, 37% online-only buyers, 28%
in-store-only buyers and 25% omnichannel buyers. In-store buyers live in a metro with a
store; online buyers anywhere. The planted quirks (see ``quirks.py``) are scattered through
the population, and their count grows with its size.
"""

from __future__ import annotations

import gc
from bisect import bisect
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from operator import attrgetter

from connectors.records import Address, Consent, ConsentState, LocationKind
from sandboxes.demo import catalog, names
from sandboxes.demo.builder import HISTORY_START, Builder
from sandboxes.demo.ids import IdFactory, ShopifyKind
from sandboxes.demo.quirks import LOCAL_PHONE_STYLES, QuirkPlanter
from sandboxes.demo.world import (
    DEMO_NOW,
    DemoLocation,
    DemoProduct,
    DemoVariant,
    DemoWorld,
    KlaviyoCampaign,
    KlaviyoEvent,
    KlaviyoMetric,
    KlaviyoProfile,
    Persona,
    PosSystem,
    Quirks,
    ShopifyCustomer,
    StockLevel,
    StockScenarios,
)

#: Below this the planted quirks would crowd out the ordinary population.
MIN_PEOPLE = 40

#: Stock rows planted for pickup tests (see ``StockScenarios``).
LAST_UNIT = ("TEE-ORG-BLK-M", "BKN")
OUT_OF_STOCK = ("SWT-HOD-OLV-L", "SOH")
HELD_BACK = ("CND-SOY-FIG", "BOS")

METRIC_RECEIVED = "Received Email"
METRIC_OPENED = "Opened Email"
METRIC_CLICKED = "Clicked Email"
METRIC_PLACED_ORDER = "Placed Order"
METRIC_UNSUBSCRIBED = "Unsubscribed from Email Marketing"
_METRICS = (
    (METRIC_RECEIVED, "Klaviyo"),
    (METRIC_OPENED, "Klaviyo"),
    (METRIC_CLICKED, "Klaviyo"),
    (METRIC_UNSUBSCRIBED, "Klaviyo"),
    (METRIC_PLACED_ORDER, "Shopify"),
)
#: Weekly campaigns over the last six weeks: recent engagement, without millions of events.
CAMPAIGN_WEEKS = 6
#: Share of subscribed profiles each campaign goes to (campaigns target segments).
CAMPAIGN_REACH = 0.6

_STORE_METRO_WEIGHTS = {"NYC": 40, "BOS": 15, "PHL": 15, "CHI": 18, "DCA": 12}


def generate(people: int = 200, seed: int = 7) -> DemoWorld:
    """Build the demo world with ``people`` canonical people. Same arguments, equal worlds."""
    if people < MIN_PEOPLE:
        raise ValueError(f"people must be at least {MIN_PEOPLE}, got {people}")
    # Every object created here stays alive, so the cyclic GC would only re-scan a growing
    # heap with nothing to free; pausing it saves a third of the time at 50,000 people.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _Generator(people, seed).run()
    finally:
        if paused:
            gc.enable()


class _Generator:
    def __init__(self, people: int, seed: int) -> None:
        self.people = people
        self.seed = seed
        self.ids = IdFactory(seed)
        self.b = Builder(seed, self.ids)
        self.rng = self.b.rng

    def run(self) -> DemoWorld:
        locations = self._locations()
        products = self._products()
        variants = [v for p in products for v in p.variants]
        self.b.set_catalogue(locations, variants, {p.code: p.product_type for p in products})
        stock = self._stock(locations, variants)
        self._setup_places(locations)

        planter = QuirkPlanter(self.b)
        self._populate(planter)
        self._walk_ins(locations)
        self._number_shopify_orders()
        metrics = [KlaviyoMetric(self.ids.klaviyo_metric(), n, i) for n, i in _METRICS]
        campaigns = self._campaigns()
        events = self._events(metrics, campaigns)

        b = self.b
        quirks = Quirks(
            upper_case_email=tuple(planter.upper_case_email),
            local_phone=tuple(planter.local_phone),
            guest_checkout=tuple(planter.guest_checkout),
            two_emails=tuple(planter.two_emails),
            shared_phone=tuple(planter.shared_phone),
            subscriber_only=tuple(planter.subscriber_only),
            pos_duplicates=tuple(planter.pos_duplicates),
            placeholders=planter.placeholders(),
            stock=StockScenarios(LAST_UNIT, OUT_OF_STOCK, HELD_BACK),
        )
        return DemoWorld(
            seed=self.seed,
            now=DEMO_NOW,
            retailer_name=catalog.RETAILER_NAME,
            retailer_domain=catalog.RETAILER_DOMAIN,
            currency=catalog.CURRENCY,
            locations=locations,
            products=products,
            stock=stock,
            people=b.people,
            shopify_customers=b.shopify_customers,
            square_customers=b.square_customers,
            klaviyo_profiles=b.klaviyo_profiles,
            klaviyo_metrics=metrics,
            klaviyo_campaigns=campaigns,
            shopify_orders=b.shopify_orders,
            square_orders=b.square_orders,
            klaviyo_events=events,
            quirks=quirks,
            ids=self.ids,
        )

    # --- fixed facts with seeded ids --------------------------------------------------------------

    def _locations(self) -> list[DemoLocation]:
        out = []
        for spec in catalog.LOCATIONS:
            opened = datetime.fromisoformat(spec.opened).replace(hour=12, tzinfo=UTC)
            pos = PosSystem(spec.pos) if spec.pos else None
            out.append(
                DemoLocation(
                    code=spec.code,
                    name=spec.name,
                    kind=spec.kind,
                    address=Address(
                        spec.line1, None, spec.city, spec.region, spec.postal_code, "US"
                    ),
                    latitude=spec.latitude,
                    longitude=spec.longitude,
                    timezone=spec.timezone,
                    phone=spec.phone,
                    email=f"{catalog.EMAIL_LOCAL[spec.code]}@{catalog.RETAILER_DOMAIN}",
                    pickup_enabled=spec.pickup_enabled,
                    fulfils_online=spec.fulfils_online,
                    pos=pos,
                    shopify_location_id=self.ids.shopify(ShopifyKind.LOCATION, opened),
                    square_location_id=(
                        self.ids.square_location() if pos is PosSystem.SQUARE else None
                    ),
                    metro=spec.metro,
                    opened_at=opened,
                    pickup_time=spec.pickup_time,
                )
            )
        return out

    def _products(self) -> list[DemoProduct]:
        out = []
        launch = datetime(2023, 2, 6, 14, tzinfo=UTC)
        for index, spec in enumerate(catalog.PRODUCTS):
            created = launch + timedelta(days=9 * index, minutes=self.rng.randrange(600))
            product_id = self.ids.shopify(ShopifyKind.PRODUCT, created)
            variants = []
            for v_index, token in enumerate(spec.variants.split()):
                options = tuple(catalog.OPTION_LABELS[t] for t in token.split("-"))
                variants.append(
                    DemoVariant(
                        sku=f"{spec.code}-{token}",
                        product_code=spec.code,
                        product_title=spec.title,
                        shopify_product_id=product_id,
                        title=" / ".join(options),
                        options=options,
                        price=Decimal(spec.price),
                        barcode=upc_a(f"8601{index:03d}{v_index:04d}"),
                        shopify_variant_id=self.ids.shopify(ShopifyKind.VARIANT, created),
                        shopify_inventory_item_id=self.ids.shopify(
                            ShopifyKind.INVENTORY_ITEM, created
                        ),
                        square_variation_id=self.ids.square_catalog_object(),
                    )
                )
            out.append(
                DemoProduct(
                    code=spec.code,
                    title=spec.title,
                    handle=spec.title.lower().replace(" ", "-").replace("&", "and"),
                    product_type=spec.product_type,
                    vendor=catalog.RETAILER_NAME,
                    option_names=catalog.option_names(spec),
                    created_at=created,
                    shopify_product_id=product_id,
                    square_item_id=self.ids.square_catalog_object(),
                    variants=variants,
                )
            )
        return out

    def _stock(
        self, locations: list[DemoLocation], variants: list[DemoVariant]
    ) -> list[StockLevel]:
        """Stock per variant and location: plenty at the warehouse; at stores mostly a few to
        a couple of dozen, some sold out, some down to the last one or two units."""
        rng = self.rng
        out = []
        for loc in locations:
            warehouse = loc.kind is LocationKind.WAREHOUSE
            for variant in variants:
                r = rng.random()
                if warehouse:
                    available = 0 if r < 0.03 else rng.randrange(20, 400)
                    safety = 0
                elif r < 0.08:
                    available, safety = 0, 0
                elif r < 0.18:
                    available, safety = rng.randrange(1, 3), 0
                else:
                    available = rng.randrange(3, 26)
                    safety = rng.choice((0, 0, 0, 1, 2))
                committed = rng.randrange(1, 4) if available and rng.random() < 0.25 else 0
                reserved = 1 if available and rng.random() < 0.05 else 0
                incoming = (
                    rng.randrange(6, 60) if rng.random() < (0.5 if not available else 0.1) else 0
                )
                out.append(
                    StockLevel(
                        sku=variant.sku,
                        location_code=loc.code,
                        available=available,
                        on_hand=available + committed + reserved,
                        committed=committed,
                        reserved=reserved,
                        incoming=incoming,
                        safety_stock=safety,
                        updated_at=DEMO_NOW - timedelta(seconds=rng.randrange(60, 14 * 86400)),
                    )
                )
        planted = {LAST_UNIT: (1, 0), OUT_OF_STOCK: (0, 0), HELD_BACK: (2, 2)}
        for level in out:
            wanted = planted.get((level.sku, level.location_code))
            if wanted is not None:
                level.available, level.safety_stock = wanted
                level.committed = level.reserved = 0
                level.on_hand = level.available
                level.incoming = 0
        return out

    # --- people -----------------------------------------------------------------------------------

    def _setup_places(self, locations: list[DemoLocation]) -> None:
        self.metros = {m.code: m for m in names.METROS}
        self.stores_by_metro: dict[str, list[DemoLocation]] = {}
        for loc in locations:
            if loc.is_store:
                self.stores_by_metro.setdefault(loc.metro, []).append(loc)
        self.metro_codes = tuple(_STORE_METRO_WEIGHTS)
        self.metro_cum = tuple(accumulate(_STORE_METRO_WEIGHTS.values()))

    def _place(self, persona: Persona) -> tuple[names.Town, str, DemoLocation | None]:
        """Where a person lives and the store nearest to them (None outside store metros)."""
        rng = self.rng
        local_share = {Persona.ONLINE_ONLY: 0.55, Persona.SUBSCRIBER_ONLY: 0.7}.get(persona, 1.0)
        if rng.random() >= local_share:
            return rng.choice(names.ONLINE_TOWNS), "REMOTE", None
        code = self.metro_codes[bisect(self.metro_cum, rng.random() * self.metro_cum[-1])]
        town = rng.choice(self.metros[code].towns)
        stores = self.stores_by_metro[code]
        home = stores[0]
        if len(stores) > 1:
            by_code = {s.code: s for s in stores}
            favoured = {"Brooklyn": "BKN", "Astoria": "BKN", "New York": "SOH"}.get(town.city)
            if favoured in by_code and rng.random() < 0.8:
                home = by_code[favoured]
            else:
                home = rng.choice(stores)
        return town, code, home

    def _populate(self, planter: QuirkPlanter) -> None:
        """Ordinary people with the quirk instances shuffled in among them."""
        people = self.people
        schedule: list[tuple[str, int]] = []

        def add(kind: str, count: int) -> None:
            schedule.extend((kind, i) for i in range(count))

        add("upper_case_email", max(1, people // 1000))
        add("local_phone", max(3, people // 1000))
        add("guest_checkout", max(1, people // 1000))
        add("two_emails", max(1, people // 2000))
        add("shared_phone", max(1, people // 2000))
        add("subscriber_only", max(1, people // 1000))
        add("pos_duplicates", max(1, people // 1000))
        add("none_email", max(12, people // 200))
        add("store_email", max(4, people // 1000))
        add("phone_only", max(3, people // 1000))
        planted_people = len(schedule) + sum(1 for kind, _ in schedule if kind == "shared_phone")
        schedule.extend(("ordinary", 0) for _ in range(people - planted_people))
        self.rng.shuffle(schedule)
        for kind, index in schedule:
            if kind == "ordinary":
                self._ordinary()
            elif kind == "upper_case_email":
                planter.plant_upper_case_email()
            elif kind == "local_phone":
                planter.plant_local_phone(LOCAL_PHONE_STYLES[index % len(LOCAL_PHONE_STYLES)])
            elif kind == "guest_checkout":
                planter.plant_guest_checkout()
            elif kind == "two_emails":
                planter.plant_two_emails()
            elif kind == "shared_phone":
                planter.plant_shared_phone()
            elif kind == "subscriber_only":
                planter.plant_subscriber_only()
            elif kind == "pos_duplicates":
                planter.plant_pos_duplicates(3 if index % 2 == 0 else 2)
            else:
                planter.plant_stranger(kind, index)

    def _ordinary(self) -> None:
        """One person of the general population with records and orders in their channels.

        Invariant kept for identity tests: when a person has more than one record, every
        record carries their email (in some case), so the truth is reachable by the
        documented rules; a record without an email is a person's only record.
        """
        b = self.b
        rng = self.rng
        r = rng.random()
        if r < 0.10:
            persona = Persona.SUBSCRIBER_ONLY
        elif r < 0.47:
            persona = Persona.ONLINE_ONLY
        elif r < 0.75:
            persona = Persona.IN_STORE_ONLY
        else:
            persona = Persona.OMNICHANNEL
        town, metro, home = self._place(persona)
        person = b.person(persona, town, metro, home, with_phone=rng.random() < 0.75)
        email = person.email
        assert email is not None
        if persona is Persona.SUBSCRIBER_ONLY:
            created = b.moment(HISTORY_START - timedelta(days=365), DEMO_NOW)
            b.klaviyo_profile(
                person,
                created,
                email=email,
                phone=person.phone,
                method="FORM",
                email_consent=b.email_consent(created, subscribed_share=0.85),
                signup_source="popup_form",
            )
            return
        start, end = b.activity_window()
        web_times = (
            b.times(b.order_count(), start, end) if persona is not Persona.IN_STORE_ONLY else []
        )
        visits = []
        if persona is not Persona.ONLINE_ONLY:
            assert home is not None
            visits = b.plan_visits(home, b.times(b.order_count(), start, end))
        first_at = min([*web_times[:1], *(at for _, at in visits[:1])])
        created = first_at - timedelta(minutes=2 + int(rng.random() * 43))

        shopify: ShopifyCustomer | None = None
        consent: Consent | None = None
        phone_known = False
        if web_times:
            if persona is Persona.OMNICHANNEL or rng.random() < 0.88:
                shopify = b.shopify_customer(person, created, email=email, phone=person.phone)
                consent = shopify.email_consent
                phone_known = person.phone is not None
                for at in web_times:
                    b.web_order(person, at, customer=shopify, email=email, phone=person.phone)
            else:
                for at in web_times:
                    phone = person.phone if rng.random() < 0.6 else None
                    phone_known = phone_known or phone is not None
                    b.web_order(person, at, customer=None, email=email, phone=phone)
        klaviyo_method = "SHOPIFY"
        record_email: str | None = email
        if visits:
            assert home is not None
            if home.pos is PosSystem.SQUARE:
                linked = persona is Persona.OMNICHANNEL or rng.random() < 0.45
                record_email = b.pos_email(email) if linked or rng.random() < 0.6 else None
                phone_raw = (
                    b.pos_phone(person.phone) if person.phone and rng.random() < 0.85 else None
                )
                if record_email is None:
                    source = "INSTANT_PROFILE" if rng.random() < 0.5 else "DIRECTORY"
                else:
                    source = "LOYALTY" if rng.random() < 0.2 else "DIRECTORY"
                square = b.square_customer(
                    person,
                    created,
                    visits[0][0],
                    email=record_email,
                    phone=phone_raw,
                    creation_source=source,
                    with_address=rng.random() < 0.2,
                )
                b.store_orders(person, visits, square_customer=square)
                phone_known = phone_known or phone_raw is not None
                if shopify is None:
                    klaviyo_method = "SQUARE"
                if persona is Persona.IN_STORE_ONLY and not linked:
                    record_email = None
                if persona is Persona.IN_STORE_ONLY and square.email_address is None:
                    person.email = None
            else:
                if shopify is None:
                    record_email = email if rng.random() < 0.85 or not person.phone else None
                    shopify = b.shopify_customer(
                        person, created, email=record_email, phone=person.phone, via_pos=True
                    )
                    consent = shopify.email_consent
                    phone_known = person.phone is not None
                    klaviyo_method = "SHOPIFY_POS"
                    if record_email is None:
                        person.email = None
                b.store_orders(person, visits, shopify_customer=shopify)
        if persona is Persona.ONLINE_ONLY:
            want_klaviyo = rng.random() < (0.8 if shopify is not None else 0.6)
        elif persona is Persona.OMNICHANNEL:
            want_klaviyo = rng.random() < 0.85
        else:
            want_klaviyo = record_email is not None and rng.random() < 0.5
        if want_klaviyo and person.email is not None:
            b.klaviyo_profile(
                person,
                created + timedelta(minutes=1 + int(rng.random() * 29)),
                email=email,
                phone=person.phone,
                method=klaviyo_method,
                email_consent=consent,
            )
            phone_known = phone_known or person.phone is not None
        if not phone_known:
            # Person.phone is a number some system knows; this one was never given to any.
            person.phone = None

    def _walk_ins(self, locations: list[DemoLocation]) -> None:
        """Anonymous till sales (no customer attached), about one in five at each store."""
        b = self.b
        attributed: dict[str, int] = {}
        for order in b.shopify_orders:
            if order.source_name == "pos":
                attributed[order.location_code] = attributed.get(order.location_code, 0) + 1
        for sq in b.square_orders:
            attributed[sq.location_code] = attributed.get(sq.location_code, 0) + 1
        for store in locations:
            if not store.is_store:
                continue
            for _ in range(attributed.get(store.code, 0) // 4 + 1):
                at = b.store_moment(HISTORY_START, DEMO_NOW, store)
                if store.pos is PosSystem.SQUARE:
                    b.square_order(None, at, store, None)
                else:
                    b.pos_order(None, at, store, None)

    def _number_shopify_orders(self) -> None:
        """Give Shopify orders their ``#1001``-style names in the order they were placed."""
        orders = self.b.shopify_orders
        orders.sort(key=attrgetter("created_at"))
        for order in orders:
            order.number = self.ids.next_order_number()
            order.name = f"#{order.number}"
        self.b.square_orders.sort(key=attrgetter("created_at"))

    # --- Klaviyo engagement -----------------------------------------------------------------------

    def _campaigns(self) -> list[KlaviyoCampaign]:
        out = []
        # DEMO_NOW is a Sunday; campaigns go out on Tuesdays at 14:00 UTC.
        last_tuesday = (DEMO_NOW - timedelta(days=5)).replace(hour=14)
        for week in range(CAMPAIGN_WEEKS, 0, -1):
            send = last_tuesday - timedelta(weeks=week - 1)
            name = names.EMAIL_CAMPAIGNS[(week - 1) % len(names.EMAIL_CAMPAIGNS)]
            out.append(
                KlaviyoCampaign(
                    id=self.ids.klaviyo_ulid(send - timedelta(days=2)),
                    name=name,
                    subject=f"{name} | {catalog.RETAILER_NAME}",
                    send_time=send,
                )
            )
        return out

    def _events(
        self, metrics: list[KlaviyoMetric], campaigns: list[KlaviyoCampaign]
    ) -> list[KlaviyoEvent]:
        """Placed Order events for Shopify orders whose email has a profile (what Klaviyo's
        Shopify integration records), campaign receives/opens/clicks, and unsubscribes."""
        rng = self.rng
        ids = self.ids
        metric = {m.name: m.id for m in metrics}
        placed, received, opened, clicked, unsub = (
            metric[METRIC_PLACED_ORDER],
            metric[METRIC_RECEIVED],
            metric[METRIC_OPENED],
            metric[METRIC_CLICKED],
            metric[METRIC_UNSUBSCRIBED],
        )
        profiles = self.b.klaviyo_profiles
        by_email: dict[str, KlaviyoProfile] = {p.email: p for p in profiles if p.email}
        events: list[KlaviyoEvent] = []
        # One properties dict per campaign, shared by its events (read-only by contract).
        campaign_props: list[tuple[KlaviyoCampaign, dict[str, object]]] = [
            (c, {"Campaign Name": c.name, "Subject": c.subject, "$message": c.id})
            for c in campaigns
        ]
        click_props: dict[str, dict[str, object]] = {
            c.id: {**props, "URL": f"https://{catalog.RETAILER_DOMAIN}/collections/new"}
            for c, props in campaign_props
        }
        for order in self.b.shopify_orders:
            profile = by_email.get(order.email) if order.email else None
            if profile is None or order.created_at < profile.created - timedelta(days=1):
                continue
            events.append(
                KlaviyoEvent(
                    id=ids.klaviyo_event(),
                    profile_id=profile.id,
                    metric_id=placed,
                    time=order.created_at,
                    value=order.total,
                    properties={
                        "$event_id": str(order.id),
                        "OrderName": order.name,
                        "ItemNames": [line.title for line in order.lines],
                        "Source Name": order.source_name,
                    },
                    person_id=profile.person_id,
                )
            )
        for profile in profiles:
            consent = profile.email_consent
            if consent.state is ConsentState.SUBSCRIBED:
                since, until = consent.updated_at or profile.created, DEMO_NOW
            elif consent.state is ConsentState.UNSUBSCRIBED and consent.updated_at:
                since, until = profile.created, max(profile.created, consent.updated_at)
                if consent.method == "PREFERENCE_PAGE":
                    events.append(
                        KlaviyoEvent(
                            ids.klaviyo_event(),
                            profile.id,
                            unsub,
                            until,
                            None,
                            {"Method": "Preference page"},
                            profile.person_id,
                        )
                    )
            else:
                continue
            engagement = rng.random() ** 2 * 0.8
            for campaign, props in campaign_props:
                send = campaign.send_time
                if send < since or send >= until or rng.random() >= CAMPAIGN_REACH:
                    continue
                at = send + timedelta(seconds=int(rng.random() * 900))
                events.append(
                    KlaviyoEvent(
                        ids.klaviyo_event(),
                        profile.id,
                        received,
                        at,
                        None,
                        props,
                        profile.person_id,
                    )
                )
                if rng.random() >= engagement:
                    continue
                at = at + timedelta(seconds=int(rng.expovariate(1 / 14400)) + 30)
                if at >= DEMO_NOW:
                    continue
                events.append(
                    KlaviyoEvent(
                        ids.klaviyo_event(), profile.id, opened, at, None, props, profile.person_id
                    )
                )
                if rng.random() < 0.3:
                    at = at + timedelta(seconds=5 + int(rng.random() * 595))
                    if at < DEMO_NOW:
                        events.append(
                            KlaviyoEvent(
                                ids.klaviyo_event(),
                                profile.id,
                                clicked,
                                at,
                                None,
                                click_props[campaign.id],
                                profile.person_id,
                            )
                        )
        events.sort(key=attrgetter("time"))
        return events


def upc_a(eleven: str) -> str:
    """A 12-digit UPC-A barcode: the 11 digits plus their check digit."""
    odd = sum(int(d) for d in eleven[0::2])
    even = sum(int(d) for d in eleven[1::2])
    return eleven + str((10 - (odd * 3 + even) % 10) % 10)
