"""Square's money on both sides of the wire: the sandbox writes amounts with its own ISO 4217
table (``sandboxes.square.units``), the connector reads them with its own
(``connectors.square.mapping.money``). Both follow Square's rule, "the smallest denomination of
the currency", and must agree for every currency in the spec's ``Currency`` enum."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.records import Money
from connectors.square.mapping import money
from sandboxes.square.units import minor_units, parse_time
from tests.connectors.square.contract import require_spec


@pytest.mark.parametrize(
    ("amount", "currency", "wire"),
    [
        (Decimal("12.99"), "USD", 1299),  # Square's own example: USD amounts are in cents
        (Decimal("1500"), "JPY", 1500),  # the yen has no minor unit
        (Decimal("1.234"), "KWD", 1234),  # the dinar has three
        (Decimal("0.10"), "eur", 10),
    ],
)
def test_the_sandbox_writes_amounts_in_the_smallest_unit(
    amount: Decimal, currency: str, wire: int
) -> None:
    assert minor_units(amount, currency) == wire
    assert money({"amount": wire, "currency": currency.upper()}) == Money(amount, currency.upper())


def test_client_and_sandbox_agree_on_every_currency_square_lists() -> None:
    with require_spec().open(encoding="utf-8") as fh:
        currencies = json.load(fh)["components"]["schemas"]["Currency"]["enum"]
    assert len(currencies) > 100
    for currency in currencies:
        read = money({"amount": 123456, "currency": currency})
        assert read is not None, currency
        assert minor_units(read.amount, currency) == 123456, currency


def test_request_timestamps_are_rfc_3339() -> None:
    assert parse_time("2026-03-01T17:04:05.123Z") == datetime(
        2026, 3, 1, 17, 4, 5, 123000, tzinfo=UTC
    )
    assert parse_time("2026-03-01T12:04:05-05:00") == datetime(
        2026, 3, 1, 12, 4, 5, tzinfo=timezone(timedelta(hours=-5))
    )
    assert parse_time("") is None
    assert parse_time("soon") is None
    assert parse_time(None) is None
