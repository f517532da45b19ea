"""Klaviyo's ``filter`` expression language, parsed the way Klaviyo reads it: the sandbox's own
grammar, written from Klaviyo's filtering reference, not shared with the connector that builds
expressions (so a connector bug in quoting or syntax fails here as it would at Klaviyo).

The grammar, as Klaviyo documents it::

    filter     := expression ("," expression)*        a top-level comma list means and(...)
    expression := comparison | logical
    logical    := ("and" | "or" | "not") "(" expression ("," expression)* ")"
    comparison := operator "(" field ["," value] ")"  ``has(field)`` alone takes no value
    value      := string | number | "true" | "false" | "null" | datetime | list
    list       := "[" [scalar ("," scalar)*] "]"     lists hold scalars only
    string     := '"' ... '"' | "'" ... "'"           a backslash escapes the next character

Datetimes are unquoted ISO-8601 (``2026-01-01T00:00:00Z``, an offset, or a date alone, which
means midnight UTC); any other unquoted word is an error (strings must be quoted). Whitespace
between tokens is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

#: A parsed literal; a list is a tuple of scalars.
Scalar = str | int | float | bool | datetime | None
Value = Scalar | tuple[Scalar, ...]

#: Klaviyo's comparison operators (any endpoint accepts only some of them, see ``query``).
OPERATORS = frozenset(
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
LOGICAL_OPERATORS = frozenset({"and", "or", "not"})

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\Z")
_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")


class FilterSyntaxError(ValueError):
    """Not a filter; ``position`` is the index of the offending character."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


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


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 datetime (``Z`` or an offset; a date alone is midnight UTC), else None."""
    if not _DATE_PREFIX.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- tokens -----------------------------------------------------------------------------------

#: Punctuation tokens; every other token is a quoted string or a bare word.
_PUNCTUATION = frozenset("(),[]")
_QUOTES = frozenset("\"'")
_WORD_END = _PUNCTUATION | _QUOTES


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # one of "(),[]", "string", "word", "end"
    text: str
    at: int


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _PUNCTUATION:
            yield _Token(char, char, i)
            i += 1
        elif char in _QUOTES:
            start, i, out = i, i + 1, []
            while i < n and text[i] != char:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise FilterSyntaxError("unterminated string", start)
            yield _Token("string", "".join(out), start)
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _WORD_END:
                i += 1
            yield _Token("word", text[start:i], start)
    yield _Token("end", "", n)


# --- grammar ----------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """The tree of a filter expression; raises :class:`FilterSyntaxError`."""
    reader = _Reader(text)
    nodes = [reader.expression()]
    while reader.take(","):
        nodes.append(reader.expression())
    end = reader.next()
    if end.kind != "end":
        raise FilterSyntaxError("unexpected text after the expression", end.at)
    return nodes[0] if len(nodes) == 1 else Logical("and", tuple(nodes))


class _Reader:
    def __init__(self, text: str) -> None:
        self._tokens = list(_tokens(text))
        self._index = 0

    def peek(self) -> _Token:
        return self._tokens[self._index]

    def next(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def take(self, kind: str) -> bool:
        if self.peek().kind == kind:
            self.next()
            return True
        return False

    def expect(self, kind: str) -> None:
        token = self.next()
        if token.kind != kind:
            found = token.text or "end of input"
            raise FilterSyntaxError(f"expected {kind!r}, found {found!r}", token.at)

    def expression(self) -> Node:
        token = self.next()
        if token.kind != "word":
            raise FilterSyntaxError("expected an operator", token.at)
        name = token.text
        if name in LOGICAL_OPERATORS:
            self.expect("(")
            operands = [self.expression()]
            while self.take(","):
                operands.append(self.expression())
            self.expect(")")
            if name == "not" and len(operands) != 1:
                raise FilterSyntaxError("not() takes one expression", token.at)
            if name != "not" and len(operands) < 2:
                raise FilterSyntaxError(f"{name}() takes at least two expressions", token.at)
            return Logical(name, tuple(operands))
        if name not in OPERATORS:
            raise FilterSyntaxError(f"unknown operator {name!r}", token.at)
        self.expect("(")
        field = self.next()
        if field.kind != "word" or not _FIELD_NAME.match(field.text):
            raise FilterSyntaxError(f"expected a field name, found {field.text!r}", field.at)
        if name == "has":
            self.expect(")")
            return Comparison(name, field.text)
        self.expect(",")
        value = self.value()
        self.expect(")")
        return Comparison(name, field.text, value)

    def value(self) -> Value:
        if self.peek().kind != "[":
            return self.scalar()
        self.next()
        items: list[Scalar] = []
        if self.take("]"):
            return ()
        while True:
            if self.peek().kind == "[":
                raise FilterSyntaxError("lists cannot be nested", self.peek().at)
            items.append(self.scalar())
            if self.take("]"):
                return tuple(items)
            self.expect(",")

    def scalar(self) -> Scalar:
        token = self.next()
        if token.kind == "string":
            return token.text
        if token.kind != "word":
            raise FilterSyntaxError("expected a value", token.at)
        word = token.text
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if _NUMBER.match(word):
            return float(word) if any(c in word for c in ".eE") else int(word)
        moment = parse_datetime(word)
        if moment is not None:
            return moment
        raise FilterSyntaxError(f"unquoted value {word!r} (strings must be quoted)", token.at)
