"""The document limits cost work linear in the document, however its fragments spread.

Work is counted, not timed: every selection set a rule walks is an iteration over its
``selections``, so the tests count those iterations for a fan-out of N levels and of 2N.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, SelectionSetNode, parse, validate, visit
from graphql.language import Visitor

from schema.build import Limits, build_schema

SCHEMA = build_schema(Limits(max_depth=12, max_aliases=30))


class _Counted(tuple):  # type: ignore[type-arg]
    """A selection list that counts how often it is walked."""

    walks = 0

    def __iter__(self) -> Iterator[Any]:
        _Counted.walks += 1
        return super().__iter__()


class _CountSelections(Visitor):
    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> None:
        object.__setattr__(node, "selections", _Counted(node.selections))


def fan_out(levels: int, *, aliases: bool = False) -> str:
    """An anonymous query whose every level spreads the next level's fragment twice, one
    field deeper: ``levels`` + 2 deep, and 2**levels paths if each spread is walked."""
    alias = "x: " if aliases else ""
    parts = ["{ ...L0 }"]
    parts += [
        f"fragment L{i} on Query {{ {alias}health {{ ...L{i + 1} ...L{i + 1} }} }}"
        for i in range(levels)
    ]
    parts.append(f"fragment L{levels} on Query {{ {alias}health {{ version }} }}")
    return "\n".join(parts)


def _limit_rules() -> list[Any]:
    """The limit rules the schema adds to graphql-core's specified rules."""
    from strawberry.extensions import AddValidationRules

    for factory in SCHEMA.extensions:
        extension = factory() if callable(factory) else factory
        if isinstance(extension, AddValidationRules):
            return list(extension.validation_rules)
    raise AssertionError("the schema adds no validation rules")


def _walks(document: DocumentNode) -> tuple[int, list[GraphQLError]]:
    visit(document, _CountSelections())
    _Counted.walks = 0
    errors = validate(SCHEMA._schema, document, _limit_rules())
    return _Counted.walks, errors


def test_depth_rule_is_linear_in_fragment_fan_out() -> None:
    walks_10, errors_10 = _walks(parse(fan_out(10)))
    walks_20, errors_20 = _walks(parse(fan_out(20)))
    # Linear: twice the levels is at most twice the work (2**10 times it if each spread
    # were measured again).
    assert walks_20 <= 2 * walks_10
    assert [e.message for e in errors_10] == []
    assert [e.message for e in errors_20] == [
        "'anonymous' exceeds maximum operation depth of 12 (found 22)"
    ]


def test_alias_rule_counts_spread_aliases_in_linear_work() -> None:
    walks_5, errors_5 = _walks(parse(fan_out(5, aliases=True)))
    walks_10, errors_10 = _walks(parse(fan_out(10, aliases=True)))
    assert walks_10 <= 2 * walks_5
    # Each spread executes its aliases again: levels 0..n hold 2**(n+1) - 1 of them.
    assert [e.message for e in errors_5] == ["63 aliases found. Allowed: 30"]
    assert [e.message for e in errors_10] == ["2047 aliases found. Allowed: 30"]


def test_fragment_cycles_end() -> None:
    document = parse(
        "{ ...A } fragment A on Query { health { ...B } } fragment B on Query { ...A }"
    )
    _, errors = _walks(document)
    assert errors == []


async def test_the_validation_cache_still_hits() -> None:
    """The rule classes are made once per schema, so the cache (keyed by them) hits."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    assert _limit_rules() == _limit_rules()
    cache = _get_validate_cache(256)
    query = "query CacheProbe { health { version } }"
    await SCHEMA.execute(query)
    hits = cache.cache_info().hits
    await SCHEMA.execute(query)
    assert cache.cache_info().hits == hits + 1
