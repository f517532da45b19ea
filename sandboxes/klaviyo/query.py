"""Evaluating parsed ``filter`` trees against sandbox records, per endpoint.

Each endpoint allows certain fields with certain operators (the spec's "Allowed field(s) /
operator(s)" for its ``filter`` parameter). A filter using anything else is refused with 400,
as Klaviyo refuses it, so a connector that relies on an operator Klaviyo does not offer (say
``any(profile_id, [...])`` on events) fails against the sandbox too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandboxes.klaviyo.filters import Comparison, FilterSyntaxError, Logical, Node, Value, parse

#: Values in one ``any(...)`` list, at most.
MAX_ANY_VALUES = 100


class Kind(enum.Enum):
    STRING = "string"
    #: A string compared without regard to case (Klaviyo matches emails that way).
    EMAIL = "email"
    DATETIME = "datetime"
    NUMBER = "number"
    #: ``has(profile)``: whether the record relates to one.
    RELATION = "relation"


@dataclass(frozen=True, slots=True)
class FieldRule:
    kind: Kind
    operators: frozenset[str]


def rule(kind: Kind, *operators: str) -> FieldRule:
    return FieldRule(kind, frozenset(operators))


_COMPARE = ("greater-or-equal", "greater-than", "less-or-equal", "less-than")

PROFILE_FIELDS: dict[str, FieldRule] = {
    "id": rule(Kind.STRING, "any", "equals"),
    "email": rule(Kind.EMAIL, "any", "equals"),
    "phone_number": rule(Kind.STRING, "any", "equals"),
    "external_id": rule(Kind.STRING, "any", "equals"),
    "_kx": rule(Kind.STRING, "equals"),
    "created": rule(Kind.DATETIME, "greater-than", "less-than"),
    "updated": rule(Kind.DATETIME, "greater-than", "less-than"),
}

EVENT_FIELDS: dict[str, FieldRule] = {
    "metric_id": rule(Kind.STRING, "equals"),
    "profile_id": rule(Kind.STRING, "equals"),
    "profile": rule(Kind.RELATION, "has"),
    "metric": rule(Kind.RELATION, "has"),
    "datetime": rule(Kind.DATETIME, *_COMPARE),
    "timestamp": rule(Kind.NUMBER, *_COMPARE),
}

METRIC_FIELDS: dict[str, FieldRule] = {
    "integration.name": rule(Kind.STRING, "equals"),
    "integration.category": rule(Kind.STRING, "equals"),
}

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]


class InvalidFilter(ValueError):
    """A filter the endpoint does not accept; the message is the 400's detail."""


def compile_filter(text: str | None, fields: Mapping[str, FieldRule]) -> Predicate:
    """A predicate over records (``{field: value}``); raises :class:`InvalidFilter`."""
    if text is None or not text.strip():
        return lambda record: True
    try:
        node = parse(text)
    except FilterSyntaxError as exc:
        raise InvalidFilter(f"Invalid filter provided: {exc}") from exc
    return _compile(node, fields)


def _compile(node: Node, fields: Mapping[str, FieldRule]) -> Predicate:
    if isinstance(node, Logical):
        if node.op != "and":
            raise InvalidFilter(f"'{node.op}' is not a supported operator for this endpoint")
        parts = [_compile(n, fields) for n in node.operands]
        return lambda record: all(p(record) for p in parts)
    return _comparison(node, fields)


def _comparison(node: Comparison, fields: Mapping[str, FieldRule]) -> Predicate:
    field_rule = fields.get(node.field)
    if field_rule is None:
        raise InvalidFilter(f"'{node.field}' is not a valid field for this endpoint")
    if node.op not in field_rule.operators:
        raise InvalidFilter(f"'{node.op}' is not a valid operator for '{node.field}'")
    name, kind = node.field, field_rule.kind
    if node.op == "has":
        return lambda record: record.get(name) is not None
    if node.op == "any":
        if not isinstance(node.value, tuple):
            raise InvalidFilter(f"'any' on '{name}' takes a list")
        if len(node.value) > MAX_ANY_VALUES:
            raise InvalidFilter(f"'any' takes at most {MAX_ANY_VALUES} values")
        wanted = {_checked(v, kind, name) for v in node.value}
        return lambda record: _normal(record.get(name), kind) in wanted
    value = _checked(node.value, kind, name)
    if node.op == "equals":
        return lambda record: _normal(record.get(name), kind) == value
    compare = _ORDER[node.op]
    return lambda record: (current := record.get(name)) is not None and compare(current, value)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "greater-than": lambda a, b: a > b,
    "greater-or-equal": lambda a, b: a >= b,
    "less-than": lambda a, b: a < b,
    "less-or-equal": lambda a, b: a <= b,
}


def _normal(value: Any, kind: Kind) -> Any:
    return value.lower() if kind is Kind.EMAIL and isinstance(value, str) else value


def _checked(value: Value, kind: Kind, name: str) -> Any:
    if isinstance(value, tuple):
        raise InvalidFilter(f"'{name}' takes a single value here")
    if kind in (Kind.STRING, Kind.EMAIL):
        if not isinstance(value, str):
            raise InvalidFilter(f"'{name}' must be compared with a quoted string")
        return _normal(value, kind)
    if kind is Kind.DATETIME:
        if not isinstance(value, datetime):
            raise InvalidFilter(f"'{name}' must be compared with an ISO-8601 datetime")
        return value
    if kind is Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFilter(f"'{name}' must be compared with a number")
        return value
    raise InvalidFilter(f"'{name}' cannot be compared")
