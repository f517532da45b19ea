"""Square's wire units, the sandbox's own: money in the currency's smallest unit, and RFC 3339
timestamps.

Written from Square's reference (``Money.amount`` is "in the smallest denomination of the
currency": cents for USD) and ISO 4217's minor-unit digits, not imported from the connector's
mapping, so a wrong exponent in the client is caught by the sandbox instead of mirrored by it
(``tests/sandboxes/square/test_units.py`` checks both against the spec's currencies).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

#: ISO 4217 minor-unit digits where they are not 2 (the default).
MINOR_UNIT_DIGITS: dict[str, int] = {
    # No minor unit.
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    # Thousandths.
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("12.99"), "USD"`` -> ``1299``; ``Decimal("1500"), "JPY"`` -> ``1500``."""
    digits = MINOR_UNIT_DIGITS.get(currency.upper(), 2)
    return int((amount * (Decimal(10) ** digits)).quantize(Decimal(1), ROUND_HALF_EVEN))


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp from a request (``2026-03-01T17:04:05.123Z``), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
