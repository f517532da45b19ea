"""The filter language: what the connector builds is what the sandbox parses, values cannot
escape their quotes, and each endpoint accepts only the fields and operators Klaviyo allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.klaviyo import filters
from connectors.klaviyo.filters import Comparison, FilterSyntaxError, Logical, parse
from sandboxes.klaviyo.query import (
    EVENT_FIELDS,
    PROFILE_FIELDS,
    InvalidFilter,
    compile_filter,
)


def test_any_of_emails_round_trips_through_the_parser() -> None:
    text = filters.any_of("email", ["a@b.com", "c@d.com"])
    assert text == 'any(email,["a@b.com","c@d.com"])'
    assert parse(text) == Comparison("any", "email", ("a@b.com", "c@d.com"))


def test_quotes_and_backslashes_in_values_cannot_break_out() -> None:
    nasty = 'o"brien\\"),equals(id,"x'
    text = filters.equals("email", nasty)
    node = parse(text)
    assert node == Comparison("equals", "email", nasty)


def test_single_quoted_strings_and_spaces_are_accepted() -> None:
    assert parse("equals( metric_id , 'Y6nRLr' )") == Comparison("equals", "metric_id", "Y6nRLr")


def test_datetimes_are_unquoted_utc_and_parse_back_to_the_same_instant() -> None:
    moment = datetime(2026, 8, 3, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    text = filters.greater_than("datetime", moment)
    assert text == "greater-than(datetime,2026-08-03T10:30:00Z)"
    node = parse(text)
    assert isinstance(node, Comparison)
    assert node.value == moment


def test_and_nests_and_a_top_level_comma_list_means_and() -> None:
    built = filters.and_(filters.equals("metric_id", "M"), filters.less_than("datetime", 5))
    assert parse(built) == Logical(
        "and", (Comparison("equals", "metric_id", "M"), Comparison("less-than", "datetime", 5))
    )
    assert parse("equals(a,1),equals(b,true)") == Logical(
        "and", (Comparison("equals", "a", 1), Comparison("equals", "b", True))
    )


def test_literals_cover_numbers_booleans_null_and_lists() -> None:
    node = parse('any(x,[1,2.5,-3,true,null,"s"])')
    assert isinstance(node, Comparison)
    assert node.value == (1, 2.5, -3, True, None, "s")


@pytest.mark.parametrize(
    "text",
    [
        "equals(email,bob@example.com)",  # unquoted string
        'equals(email,"unterminated)',
        'any(email,["a",["nested"]])',
        'frobnicate(email,"a")',
        'equals(email "a")',
        'equals(email,"a") trailing',
        "and(equals(a,1))",
        "",
    ],
)
def test_malformed_filters_are_refused(text: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse(text)


def test_naive_datetimes_and_bad_field_names_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="timezone"):
        filters.greater_than("datetime", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="field"):
        filters.equals("email) or (1", "x")


def test_profile_filter_evaluates_any_and_matches_emails_without_case() -> None:
    predicate = compile_filter('any(email,["Bo@Example.com","x@y.z"])', PROFILE_FIELDS)
    assert predicate({"email": "bo@example.com"})
    assert not predicate({"email": "other@example.com"})


def test_datetime_comparisons_evaluate() -> None:
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    predicate = compile_filter(
        filters.and_(filters.equals("metric_id", "M"), filters.greater_than("datetime", cutoff)),
        EVENT_FIELDS,
    )
    assert predicate({"metric_id": "M", "datetime": cutoff + timedelta(seconds=1)})
    assert not predicate({"metric_id": "M", "datetime": cutoff})
    assert not predicate({"metric_id": "N", "datetime": cutoff + timedelta(days=1)})


@pytest.mark.parametrize(
    ("text", "fields", "message"),
    [
        ('any(profile_id,["a","b"])', EVENT_FIELDS, "not a valid operator"),
        ('equals(first_name,"Bo")', PROFILE_FIELDS, "not a valid field"),
        ('or(equals(id,"a"),equals(id,"b"))', PROFILE_FIELDS, "not a supported operator"),
        ('greater-than(datetime,"yesterday")', EVENT_FIELDS, "ISO-8601"),
        ('equals(email,["a"])', PROFILE_FIELDS, "single value"),
        (
            "any(id," + "[" + ",".join(f'"{i}"' for i in range(101)) + "])",
            PROFILE_FIELDS,
            "at most",
        ),
    ],
)
def test_endpoints_refuse_fields_and_operators_klaviyo_does_not_offer(
    text: str, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidFilter, match=message):
        compile_filter(text, fields)  # type: ignore[arg-type]
