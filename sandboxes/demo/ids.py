"""Vendor-style ids, made deterministically from one seeded random source.

Each vendor's ids look like the real thing so that connectors parse the sandboxes exactly as
they would parse production, and so a mix-up (a Square id passed to Shopify) fails the way it
would in production:

* Shopify: numeric, increasing with creation time (real Shopify ids grow over time, and the
  Admin API's default sort is by id). ``53716844710`` (location), ``7…`` 13 digits (customer),
  ``271878346596884015`` (inventory item, as in Shopify's own webhook example).
* Square: upper-case alphanumerics for catalogue objects, customers and locations
  (``W62UWFY35CWMYGVWK6TWJDNI``, ``L8S7WQ1P4K2ZT``), mixed case for orders and payments
  (``CAISEM82RcpmcFE_rEiqGwgfcGg``).
* Klaviyo: ULIDs for profiles (``01GDDKASAP8TKDDA2GRZDSVP4H``; the first ten characters are the
  creation time, as in Klaviyo), short mixed-case ids for metrics (``Y6nRLr``) and events.

The factory lives in the world (``DemoWorld.ids``) so sandboxes that add orders or customers
at runtime draw from the same deterministic sequence and can never collide with generated ids.
"""

from __future__ import annotations

import enum
import random
import string
from datetime import UTC, datetime, timedelta

#: Shopify ids are derived from seconds since this instant, which keeps them time-ordered.
ID_EPOCH = datetime(2018, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_MIXED_ALNUM = string.ascii_letters + string.digits
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _byte_table(alphabet: str) -> bytes:
    """A ``bytes.translate`` table mapping each byte value onto the alphabet. Random bytes
    through it give random ids ten times faster than ``random.choices`` (the modulo bias
    for alphabets that do not divide 256 is irrelevant for ids)."""
    return bytes(ord(alphabet[i % len(alphabet)]) for i in range(256))


_UPPER_TABLE = _byte_table(_UPPER_ALNUM)
_MIXED_TABLE = _byte_table(_MIXED_ALNUM)
_CROCKFORD_TABLE = _byte_table(_CROCKFORD)


class ShopifyKind(enum.StrEnum):
    LOCATION = "Location"
    PRODUCT = "Product"
    VARIANT = "ProductVariant"
    INVENTORY_ITEM = "InventoryItem"
    INVENTORY_LEVEL = "InventoryLevel"
    CUSTOMER = "Customer"
    ADDRESS = "MailingAddress"
    ORDER = "Order"
    LINE_ITEM = "LineItem"
    REFUND = "Refund"
    REFUND_LINE_ITEM = "RefundLineItem"


#: (base, scale): id = base + seconds_since_epoch * scale + randrange(scale). The base sets the
#: digit count seen in real shops; the scale leaves room for many ids per second.
_SHOPIFY_LAYOUT: dict[ShopifyKind, tuple[int, int]] = {
    ShopifyKind.LOCATION: (53_600_000_000, 1),
    ShopifyKind.PRODUCT: (8_700_000_000_000, 10),
    ShopifyKind.VARIANT: (44_800_000_000_000, 100),
    ShopifyKind.INVENTORY_ITEM: (271_800_000_000_000_000, 1000),
    ShopifyKind.INVENTORY_LEVEL: (87_800_000_000, 1),
    ShopifyKind.CUSTOMER: (6_800_000_000_000, 10),
    ShopifyKind.ADDRESS: (8_900_000_000_000, 10),
    ShopifyKind.ORDER: (5_600_000_000_000, 10),
    ShopifyKind.LINE_ITEM: (14_500_000_000_000, 100),
    ShopifyKind.REFUND: (910_000_000_000, 10),
    ShopifyKind.REFUND_LINE_ITEM: (480_000_000_000, 10),
}


class _KindState:
    """Issued ids of one Shopify kind (one dict lookup per id instead of four)."""

    __slots__ = ("base", "highest", "issued", "scale")

    def __init__(self, base: int, scale: int) -> None:
        self.base = base
        self.scale = scale
        self.highest = base
        self.issued: set[int] = set()


def shopify_gid(kind: ShopifyKind, id_: int) -> str:
    """The Admin GraphQL global id, e.g. ``gid://shopify/Customer/6800012345678``."""
    return f"gid://shopify/{kind.value}/{id_}"


#: Every 10-bit value as two Crockford characters: a ULID time prefix is five lookups.
_CROCKFORD_PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)


def ulid_time(at: datetime) -> str:
    """The ten-character Crockford base32 time prefix of a ULID (milliseconds since 1970)."""
    ms = int(at.timestamp() * 1000)
    pairs = _CROCKFORD_PAIRS
    return (
        pairs[(ms >> 40) & 1023]
        + pairs[(ms >> 30) & 1023]
        + pairs[(ms >> 20) & 1023]
        + pairs[(ms >> 10) & 1023]
        + pairs[ms & 1023]
    )


class IdFactory:
    """Deterministic vendor-style ids. Same seed and same call sequence, same ids.

    It has its own ``random.Random`` (not the data generator's), so the ids drawn at runtime
    by a sandbox do not depend on how much randomness the data generation consumed.
    Shopify ids are checked against everything issued so far: they come from a clock plus a
    small random part, and two orders in the same second must still differ.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"omnigate-demo-ids:{seed}")
        self._kinds = {kind: _KindState(*_SHOPIFY_LAYOUT[kind]) for kind in ShopifyKind}
        self._order_number = 1000
        self._pool = b""
        self._pool_at = 0

    # --- Shopify ---------------------------------------------------------------------------

    def shopify(self, kind: ShopifyKind, at: datetime) -> int:
        """A numeric Shopify id for an object created at ``at`` (larger for later objects)."""
        state = self._kinds[kind]
        seconds = max(0, (at - ID_EPOCH) // _SECOND)
        candidate = state.base + seconds * state.scale + int(self._rng.random() * state.scale)
        if candidate in state.issued:
            # Rare (same second, same random part) except when a caller creates many objects
            # at one frozen instant: step past the largest id issued, O(1) either way.
            candidate = state.highest + 1
        state.issued.add(candidate)
        if candidate > state.highest:
            state.highest = candidate
        return candidate

    def shopify_next(self, kind: ShopifyKind) -> int:
        """The next id of ``kind`` after every one issued so far, with a small random gap.
        For sub-objects (line items, refund lines) whose ids only need to be unique and
        increasing: cheaper than a clock-derived id, which matters at 50,000 people."""
        state = self._kinds[kind]
        candidate = state.highest + 1 + int(self._rng.random() * 8)
        state.issued.add(candidate)
        state.highest = candidate
        return candidate

    def next_order_number(self) -> int:
        """Shopify's human order number (``name`` is ``#`` + this), sequential from 1001."""
        self._order_number += 1
        return self._order_number

    @property
    def last_order_number(self) -> int:
        return self._order_number

    # --- Square ----------------------------------------------------------------------------

    def _chars(self, table: bytes, k: int) -> str:
        # Random bytes are drawn 16 KiB at a time and sliced: one big ``getrandbits`` is far
        # cheaper than one ``randbytes`` per id, and the sequence stays deterministic.
        start = self._pool_at
        if start + k > len(self._pool):
            self._pool = self._rng.randbytes(16384)
            start = 0
        self._pool_at = start + k
        return self._pool[start : start + k].translate(table).decode("ascii")

    def square_location(self) -> str:
        return "L" + self._chars(_UPPER_TABLE, 12)

    def square_catalog_object(self) -> str:
        """Catalog items and item variations: 24 upper-case alphanumerics."""
        return self._chars(_UPPER_TABLE, 24)

    def square_customer(self) -> str:
        return self._chars(_UPPER_TABLE, 26)

    def square_order(self) -> str:
        return self._chars(_MIXED_TABLE, 27)

    def square_payment(self) -> str:
        return self._chars(_MIXED_TABLE, 29)

    def square_refund(self, payment_id: str) -> str:
        """Square refund ids are the payment id, an underscore and a suffix."""
        return f"{payment_id}_{self._chars(_MIXED_TABLE, 20)}"

    def square_uid(self) -> str:
        """Line-item and return uids inside one order."""
        return self._chars(_MIXED_TABLE, 22)

    # --- Klaviyo ---------------------------------------------------------------------------

    def klaviyo_ulid(self, at: datetime) -> str:
        """Profile (and campaign) ids: a ULID whose time part is the creation time."""
        return ulid_time(at) + self._chars(_CROCKFORD_TABLE, 16)

    def klaviyo_metric(self) -> str:
        return self._chars(_MIXED_TABLE, 6)

    def klaviyo_event(self) -> str:
        return self._chars(_MIXED_TABLE, 11)
