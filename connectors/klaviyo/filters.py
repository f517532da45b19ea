"""Klaviyo's ``filter`` expression language: building (connector) and parsing (sandbox).

Klaviyo filters are function calls, ``any(email,["a@b.com","c@d.com"])``,
``equals(metric_id,"X")``, ``greater-than(datetime,2026-01-01T00:00:00Z)``, combined with
``and(...)`` or a top-level comma list. Values are quoted strings, numbers, ``true``,
``false``, ``null``, unquoted ISO-8601 datetimes and ``[...]`` lists.

The connector builds expressions with the functions here so that a value can never break out of
its quotes (an email may legally contain ``'`` or ``"``). The sandbox parses them with the same
module into a small tree and evaluates it, so a malformed or unsupported filter fails there the
way it fails at Klaviyo, instead of happening to match a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: A parsed literal. Lists hold scalars only, as in Klaviyo's grammar.
Scalar = str | int | float | bool | datetime | None
Value = Scalar | tuple[Scalar, ...]

COMPARISONS = frozenset(
    {
        "equals",
        "any",
        "has",
        "greater-than",
        "greater-or-equal",
        "less-than",
        "less-or-equal",
        "contains",
        "contains-any",
        "contains-all",
        "starts-with",
        "ends-with",
    }
)
LOGICAL = frozenset({"and", "or", "not"})


class FilterSyntaxError(ValueError):
    """The expression is not a valid filter; ``position`` is the offending character index."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


# --- building ---------------------------------------------------------------------------------


def literal(value: Value | Sequence[Scalar]) -> str:
    """One value in filter syntax. Strings are double-quoted with ``\\`` escapes; datetimes are
    unquoted UTC ISO-8601, the form Klaviyo documents for ``datetime`` comparisons."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("filter datetimes must be timezone-aware")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return "[" + ",".join(literal(item) for item in value) + "]"


def equals(field: str, value: Scalar) -> str:
    return f"equals({_field(field)},{literal(value)})"


def any_of(field: str, values: Iterable[Scalar]) -> str:
    return f"any({_field(field)},{literal(tuple(values))})"


def greater_than(field: str, value: Scalar) -> str:
    return f"greater-than({_field(field)},{literal(value)})"


def less_than(field: str, value: Scalar) -> str:
    return f"less-than({_field(field)},{literal(value)})"


def and_(*expressions: str) -> str:
    """All of ``expressions``; a single one is returned as is."""
    parts = [e for e in expressions if e]
    if not parts:
        raise ValueError("and_() needs at least one expression")
    return parts[0] if len(parts) == 1 else f"and({','.join(parts)})"


_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


def _field(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"not a filter field name: {name!r}")
    return name


# --- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """``op(field, value)``; ``has(field)`` has no value."""

    op: str
    field: str
    value: Value = None


@dataclass(frozen=True, slots=True)
class Logical:
    op: str
    operands: tuple[Node, ...]


Node = Comparison | Logical

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?\Z")
_BARE_END = frozenset("(),[]\"' \t\r\n")


def parse(text: str) -> Node:
    """The tree of a filter expression; raises :class:`FilterSyntaxError`.

    A top-level comma list (``equals(a,1),equals(b,2)``) means ``and``, as at Klaviyo.
    """
    parser = _Parser(text)
    nodes = [parser.expression()]
    while parser.accept(","):
        nodes.append(parser.expression())
    parser.skip_space()
    if parser.pos != len(text):
        raise FilterSyntaxError("unexpected text after the expression", parser.pos)
    return nodes[0] if len(nodes) == 1 else Logical("and", tuple(nodes))


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 datetime (``Z`` or an offset; a date alone means midnight UTC), else None."""
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def accept(self, char: str) -> bool:
        self.skip_space()
        if self.text.startswith(char, self.pos):
            self.pos += len(char)
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.accept(char):
            found = self.text[self.pos] if self.pos < len(self.text) else "end of input"
            raise FilterSyntaxError(f"expected {char!r}, found {found!r}", self.pos)

    def bare(self) -> tuple[str, int]:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _BARE_END:
            self.pos += 1
        return self.text[start : self.pos], start

    def expression(self) -> Node:
        name, start = self.bare()
        if not name:
            raise FilterSyntaxError("expected an operator", start)
        if name not in COMPARISONS and name not in LOGICAL:
            raise FilterSyntaxError(f"unknown operator {name!r}", start)
        self.expect("(")
        if name in LOGICAL:
            operands = [self.expression()]
            while self.accept(","):
                operands.append(self.expression())
            self.expect(")")
            if name == "not" and len(operands) != 1:
                raise FilterSyntaxError("not() takes one expression", start)
            if name != "not" and len(operands) < 2:
                raise FilterSyntaxError(f"{name}() takes at least two expressions", start)
            return Logical(name, tuple(operands))
        field, field_at = self.bare()
        if not _FIELD.match(field):
            raise FilterSyntaxError(f"expected a field name, found {field!r}", field_at)
        if name == "has":
            self.expect(")")
            return Comparison(name, field)
        self.expect(",")
        value = self.value(allow_list=True)
        self.expect(")")
        return Comparison(name, field, value)

    def value(self, *, allow_list: bool) -> Value:
        self.skip_space()
        at = self.pos
        if at >= len(self.text):
            raise FilterSyntaxError("expected a value", at)
        char = self.text[at]
        if char in "\"'":
            return self.string(char)
        if char == "[":
            if not allow_list:
                raise FilterSyntaxError("lists cannot be nested", at)
            self.pos += 1
            items: list[Scalar] = []
            if not self.accept("]"):
                while True:
                    item = self.value(allow_list=False)
                    assert not isinstance(item, tuple)
                    items.append(item)
                    if self.accept("]"):
                        break
                    self.expect(",")
            return tuple(items)
        word, at = self.bare()
        if not word:
            raise FilterSyntaxError("expected a value", at)
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if _NUMBER.match(word):
            return float(word) if any(c in word for c in ".eE") else int(word)
        moment = parse_datetime(word)
        if moment is not None:
            return moment
        raise FilterSyntaxError(f"unquoted value {word!r} (strings must be quoted)", at)

    def string(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise FilterSyntaxError("unterminated string", start)
