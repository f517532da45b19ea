"""The filters the connector builds, read back by the sandbox's own parser of Klaviyo's
grammar: what the client writes is what Klaviyo reads, and values cannot escape their quotes.
(The grammar and each endpoint's rules are tested in ``tests/sandboxes/klaviyo``.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.klaviyo import filters
from sandboxes.klaviyo.filters import Comparison, Logical, parse


def test_any_of_emails_round_trips_through_the_parser() -> None:
    text = filters.any_of("email", ["a@b.com", "c@d.com"])
    assert text == 'any(email,["a@b.com","c@d.com"])'
    assert parse(text) == Comparison("any", "email", ("a@b.com", "c@d.com"))


def test_quotes_and_backslashes_in_values_cannot_break_out() -> None:
    nasty = 'o"brien\\"),equals(id,"x'
    text = filters.equals("email", nasty)
    node = parse(text)
    assert node == Comparison("equals", "email", nasty)


def test_datetimes_are_unquoted_utc_and_parse_back_to_the_same_instant() -> None:
    moment = datetime(2026, 8, 3, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    text = filters.greater_than("datetime", moment)
    assert text == "greater-than(datetime,2026-08-03T10:30:00Z)"
    node = parse(text)
    assert isinstance(node, Comparison)
    assert node.value == moment


def test_and_nests_and_reads_back_as_and() -> None:
    built = filters.and_(filters.equals("metric_id", "M"), filters.less_than("datetime", 5))
    assert parse(built) == Logical(
        "and", (Comparison("equals", "metric_id", "M"), Comparison("less-than", "datetime", 5))
    )


def test_naive_datetimes_and_bad_field_names_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="timezone"):
        filters.greater_than("datetime", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="field"):
        filters.equals("email) or (1", "x")


def test_the_client_reads_klaviyos_datetimes() -> None:
    assert filters.parse_datetime("2026-08-03T10:30:00Z") == datetime(
        2026, 8, 3, 10, 30, tzinfo=UTC
    )
    assert filters.parse_datetime("2026-08-03") == datetime(2026, 8, 3, tzinfo=UTC)
    assert filters.parse_datetime("yesterday") is None
