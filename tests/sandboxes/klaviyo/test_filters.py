"""The sandbox's parser of Klaviyo's filter grammar, and each endpoint's allowed fields and
operators: a malformed or unsupported filter fails here the way it fails at Klaviyo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.klaviyo import filters
from sandboxes.klaviyo.filters import Comparison, FilterSyntaxError, Logical, parse
from sandboxes.klaviyo.query import (
    EVENT_FIELDS,
    PROFILE_FIELDS,
    InvalidFilter,
    compile_filter,
)


def test_single_quoted_strings_and_spaces_are_accepted() -> None:
    assert parse("equals( metric_id , 'Y6nRLr' )") == Comparison("equals", "metric_id", "Y6nRLr")


def test_a_top_level_comma_list_means_and() -> None:
    assert parse("equals(a,1),equals(b,true)") == Logical(
        "and", (Comparison("equals", "a", 1), Comparison("equals", "b", True))
    )


def test_literals_cover_numbers_booleans_null_and_lists() -> None:
    node = parse('any(x,[1,2.5,-3,true,null,"s"])')
    assert isinstance(node, Comparison)
    assert node.value == (1, 2.5, -3, True, None, "s")


def test_logical_operators_nest_and_has_takes_no_value() -> None:
    assert parse('not(equals(a,"x"))') == Logical("not", (Comparison("equals", "a", "x"),))
    assert parse("or(has(profile),and(equals(a,1),less-than(b,2)))") == Logical(
        "or",
        (
            Comparison("has", "profile"),
            Logical("and", (Comparison("equals", "a", 1), Comparison("less-than", "b", 2))),
        ),
    )
    assert parse("any(id,[])") == Comparison("any", "id", ())


def test_datetimes_may_carry_an_offset_or_be_a_date_alone() -> None:
    assert parse("greater-than(datetime,2026-08-03T12:30:00+02:00)") == Comparison(
        "greater-than", "datetime", datetime(2026, 8, 3, 10, 30, tzinfo=UTC)
    )
    assert parse("less-than(updated,2026-08-03)") == Comparison(
        "less-than", "updated", datetime(2026, 8, 3, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("equals(email,bob@example.com)", 13),
        ('frobnicate(email,"a")', 0),
        ('equals(email "a")', 13),
        ('equals(email,"a") trailing', 18),
        ("not(equals(a,1),equals(b,2))", 0),
    ],
)
def test_syntax_errors_name_the_offending_position(text: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert caught.value.position == position
    assert f"at position {position}" in str(caught.value)


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
