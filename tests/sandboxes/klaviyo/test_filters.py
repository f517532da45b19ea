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
