"""Shopify's search syntax, as far as the sandbox needs it.

Supported: ``field:value`` terms, quoted values (``"..."`` or ``'...'``, backslash escapes),
comparisons ``field:>v``, ``:>=``, ``:<``, ``:<=``, a trailing ``*`` for prefix match,
``AND`` (also implicit between terms), ``OR``, ``NOT`` / a leading ``-``, and parentheses.
Bare words search a resource's default text fields.

Matching follows Shopify's behaviour where the connector depends on it: case-insensitive
text, phones compared by their digits, dates compared as instants (a bare date is its
midnight UTC). A term naming a field the resource does not know matches nothing, so a typo
in the connector's queries shows up as an empty result rather than as everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: A field's values for one record (several for multi-valued fields such as tags).
Getter = Callable[[Any], Sequence[object]]

_OPERATORS = (">=", "<=", ">", "<")


class SearchSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Term:
    field: str | None
    op: str
    value: str
    prefix: bool


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]


Node = Term | Not | And | Or

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<word>(?:[^\s()"'\\]|\\.|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise SearchSyntaxError(f"cannot read the query at {position}: {text[position:]!r}")
        tokens.append(match.group("lparen") or match.group("rparen") or match.group("word"))
        position = match.end()
    return tokens


def _unquote(value: str) -> tuple[str, bool]:
    """The value without quotes or escapes, and whether it was quoted."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", value[1:-1]), True
    return re.sub(r"\\(.)", r"\1", value), False


def _term(word: str) -> Term:
    field: str | None = None
    rest = word
    match = re.match(r"^([A-Za-z_][A-Za-z0-9_.]*):(.*)$", word, re.DOTALL)
    if match:
        field, rest = match.group(1).lower(), match.group(2)
    op = ":"
    for candidate in _OPERATORS:
        if field is not None and rest.startswith(candidate):
            op, rest = candidate, rest[len(candidate) :]
            break
    value, quoted = _unquote(rest)
    prefix = not quoted and value.endswith("*")
    if prefix:
        value = value[:-1]
    return Term(field, op, value, prefix)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise SearchSyntaxError(f"unexpected {self.peek()!r}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise SearchSyntaxError("unexpected end of query")
        if token == "NOT":
            self.take()
            return Not(self.unary())
        if token == "(":
            self.take()
            node = self.or_expr()
            if self.peek() != ")":
                raise SearchSyntaxError("missing )")
            self.take()
            return node
        if token == ")":
            raise SearchSyntaxError("unexpected )")
        word = self.take()
        if word.startswith("-") and len(word) > 1:
            return Not(_term(word[1:]))
        return _term(word)


def parse_query(text: str | None) -> Node | None:
    """The parsed query; ``None`` for an empty one (everything matches)."""
    if text is None or not text.strip():
        return None
    return _Parser(_tokens(text)).parse()


@dataclass(frozen=True, slots=True)
class Field:
    """How a resource exposes one searchable field."""

    get: Getter
    kind: str = "text"  # text | phone | number | date | exact


#: Records whose field equals a value exactly (as a search term spells it).
Index = Callable[[str], Iterable[T]]


def _candidates(node: Node, indexes: Mapping[str, Index[T]]) -> list[T] | None:
    """Every record ``node`` can match, from an index, or ``None`` when no index narrows it:
    an equality term on an indexed field, an OR of such terms, or an AND with one such part."""
    if isinstance(node, And):
        for part in node.parts:
            narrowed = _candidates(part, indexes)
            if narrowed is not None:
                return narrowed
        return None
    terms = node.parts if isinstance(node, Or) else (node,)
    found: dict[int, T] = {}
    for term in terms:
        if not isinstance(term, Term) or term.op != ":" or term.prefix:
            return None
        index = indexes.get(str(term.field))
        if index is None:
            return None
        for record in index(term.value):
            found.setdefault(id(record), record)
    return list(found.values())


class Searcher(Generic[T]):
    """Matches records of one resource against parsed queries."""

    def __init__(self, fields: Mapping[str, Field], default: Sequence[str]) -> None:
        self.fields = dict(fields)
        self.default = tuple(default)

    def filter(
        self,
        records: Sequence[T],
        query: str | None,
        indexes: Mapping[str, Index[T]] | None = None,
    ) -> list[T]:
        """The records matching ``query``, in their order.

        ``indexes`` (field -> the records with that exact value, drawn from ``records``) let
        an equality search read a few candidates instead of scanning every record; the full
        predicate still decides. Narrowed answers come in the index's order, so callers
        that pass indexes sort the result (connections always do)."""
        node = parse_query(query)
        if node is None:
            return list(records)
        predicate = self.compile(node)
        candidates = _candidates(node, indexes) if indexes else None
        return [r for r in (records if candidates is None else candidates) if predicate(r)]

    def matches(self, node: Node, record: T) -> bool:
        return self.compile(node)(record)

    def compile(self, node: Node) -> Callable[[T], bool]:
        """A predicate for ``node``. An OR of plain equality terms on one field (the
        connector's ``customer_id:1 OR customer_id:2 ...``), or one such term alone,
        becomes one set lookup."""
        if isinstance(node, Or):
            lookup = self._set_lookup(node)
            if lookup is not None:
                return lookup
            parts = [self.compile(p) for p in node.parts]
            return lambda record: any(p(record) for p in parts)
        if isinstance(node, And):
            parts = [self.compile(p) for p in node.parts]
            return lambda record: all(p(record) for p in parts)
        if isinstance(node, Not):
            inner = self.compile(node.inner)
            return lambda record: not inner(record)
        term = node
        lookup = self._set_lookup(Or((term,)))
        if lookup is not None:
            return lookup
        return lambda record: self._term(term, record)

    def _set_lookup(self, node: Or) -> Callable[[T], bool] | None:
        terms = [p for p in node.parts if isinstance(p, Term)]
        if len(terms) != len(node.parts) or not terms:
            return None
        names = {t.field for t in terms}
        if len(names) != 1 or None in names or any(t.op != ":" or t.prefix for t in terms):
            return None
        field = self.fields.get(str(terms[0].field))
        if field is None or field.kind not in ("text", "number"):
            return None
        get = field.get
        if field.kind == "number":
            wanted = {_normal_number(t.value) for t in terms}
            # Integers (ids) are compared as they are: no string or float per record.
            integers = {int(w) for w in wanted if w.lstrip("-").isdigit()}
            return lambda record: any(
                v in integers if type(v) is int else _normal_number(str(v)) in wanted
                for v in get(record)
                if v is not None
            )
        texts = {t.value.lower() for t in terms}
        return lambda record: any(str(v).lower() in texts for v in get(record) if v is not None)

    def _term(self, term: Term, record: T) -> bool:
        if term.field is None:
            needle = term.value.lower()
            return any(
                needle in str(v).lower()
                for name in self.default
                for v in self.fields[name].get(record)
                if v is not None
            )
        field = self.fields.get(term.field)
        if field is None:
            return False
        return any(_compare(field.kind, v, term) for v in field.get(record) if v is not None)


def _compare(kind: str, actual: object, term: Term) -> bool:
    if kind == "date":
        left, right = _instant(actual), _instant(term.value)
        if left is None or right is None:
            return False
        return _ordered(left, right, term.op)
    if kind == "number":
        try:
            left_n, right_n = float(str(actual)), float(term.value)
        except ValueError:
            return False
        return _ordered(left_n, right_n, term.op)
    if kind == "phone":
        left_p, right_p = _digits(str(actual)), _digits(term.value)
        if not right_p:
            return False
        if term.prefix:
            return left_p.startswith(right_p)
        return left_p == right_p or (
            min(len(left_p), len(right_p)) >= 10
            and (left_p.endswith(right_p) or right_p.endswith(left_p))
        )
    left_t, right_t = str(actual).lower(), term.value.lower()
    if term.op != ":":
        return _ordered(left_t, right_t, term.op)
    if term.prefix:
        return left_t.startswith(right_t)
    return left_t == right_t


def _normal_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else str(number)


def _ordered(left: Any, right: Any, op: str) -> bool:
    if op == ":":
        return bool(left == right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
