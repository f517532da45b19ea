"""Shopify search syntax: what the connector writes and what the sandbox understands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.shopify import search
from sandboxes.shopify.search import (
    Field,
    Searcher,
    SearchSyntaxError,
    parse_query,
)


@dataclass
class Person:
    id: int
    first: str
    last: str
    email: str | None
    phone: str | None
    updated: datetime


JAN, MAR, MAY = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 3, 5))
PEOPLE = [
    Person(1, "Ada", "Lovelace", "ada@example.com", "+16175550101", JAN),
    Person(2, "Bo", "Adams", "bo+shop@example.com", "+16175550102", MAR),
    Person(3, "Cy", "Young", None, None, MAY),
]

SEARCHER: Searcher[Person] = Searcher(
    {
        "id": Field(lambda p: [p.id], "number"),
        "first_name": Field(lambda p: [p.first]),
        "last_name": Field(lambda p: [p.last]),
        "email": Field(lambda p: [p.email] if p.email else []),
        "phone": Field(lambda p: [p.phone] if p.phone else [], "phone"),
        "updated_at": Field(lambda p: [p.updated], "date"),
    },
    default=("first_name", "last_name", "email"),
)


def ids(query: str) -> list[int]:
    return [p.id for p in SEARCHER.filter(PEOPLE, query)]


def test_connector_email_terms_match_exactly_and_case_insensitively() -> None:
    query = search.either(
        search.any_of("email", ["ADA@example.com"]), search.any_of("email", ["bo+shop@example.com"])
    )
    assert ids(query) == [1, 2]
    assert ids(search.any_of("email", ["ada@example.co"])) == []


def test_phones_match_by_digits_whatever_the_format() -> None:
    assert ids(search.any_of("phone", ["(617) 555-0102"])) == [2]
    assert ids(search.any_of("phone", ["+1 617 555 0101"])) == [1]


def test_name_prefix_matches_first_or_last_name() -> None:
    assert ids(search.name_prefix("Ad")) == [1, 2]
    assert ids(search.name_prefix("ada love")) == [1]
    assert ids(search.name_prefix('a" OR id:3')) == []  # quotes and colons are stripped


def test_updated_since_is_inclusive_and_uses_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    query = search.updated_since(datetime(2026, 2, 28, 19, 0, tzinfo=eastern))
    assert query == "updated_at:>='2026-03-01T00:00:00Z'"
    assert ids(query) == [2, 3]


def test_quoting_keeps_operators_inside_values() -> None:
    assert search.quote('a"b\\c') == '"a\\"b\\\\c"'
    assert ids(search.any_of("email", ['x" OR email:"ada@example.com'])) == []


def test_numeric_ids_are_validated() -> None:
    assert search.numeric_any_of("customer_id", ["1", "2"]) == "customer_id:1 OR customer_id:2"
    with pytest.raises(ValueError, match="numeric"):
        search.numeric_any_of("customer_id", ["1 OR id:2"])


def test_boolean_structure_and_negation() -> None:
    assert ids("first_name:Ada OR (last_name:Young AND -id:2)") == [1, 3]
    assert ids("NOT email:ada@example.com") == [2, 3]
    assert ids("id:>1 id:<3") == [2]
    assert ids("Lovelace") == [1]


def test_unknown_fields_match_nothing() -> None:
    assert ids("favourite_store:BOS") == []


def test_syntax_errors_are_reported() -> None:
    assert parse_query("") is None
    with pytest.raises(SearchSyntaxError):
        parse_query("(email:a")


def test_an_index_narrows_equality_searches_without_changing_their_answer() -> None:
    """The sandbox reads candidates from an index (orders by customer or email) instead of
    scanning: every query must find exactly what a full scan finds."""
    reads: list[str] = []

    def by_email(value: str) -> list[Person]:
        reads.append(value)
        return [p for p in PEOPLE if p.email and p.email.lower() == value.lower()]

    def by_id(value: str) -> list[Person]:
        return [p for p in PEOPLE if str(p.id) == value]

    indexes = {"email": by_email, "id": by_id}
    queries = [
        "email:bo+shop@example.com OR email:ADA@example.com",
        "id:3 OR id:1",
        "email:ada@example.com AND first_name:Bo",
        "email:ada@example.com AND updated_at:<2026-02-01",
        "first_name:Ada OR email:bo+shop@example.com",  # mixed fields: full scan
        "email:ada* OR id:2",  # prefix: full scan
        "NOT email:ada@example.com",
        "id:>1",
    ]
    for query in queries:
        narrowed = sorted(p.id for p in SEARCHER.filter(PEOPLE, query, indexes))
        assert narrowed == ids(query), query
    assert ids("email:bo+shop@example.com OR email:ADA@example.com") == [1, 2]
    # The index was used for the email searches (and not for the mixed or prefix ones).
    assert "ada*" not in reads
    assert "ADA@example.com" in reads
