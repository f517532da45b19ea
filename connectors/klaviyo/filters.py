"""Klaviyo's ``filter`` expression language: building expressions for requests.

Klaviyo filters are function calls, ``any(email,["a@b.com","c@d.com"])``,
``equals(metric_id,"X")``, ``greater-than(datetime,2026-01-01T00:00:00Z)``, combined with
``and(...)``. Values are quoted strings, numbers, ``true``, ``false``, ``null``, unquoted
ISO-8601 datetimes and ``[...]`` lists.

The connector builds expressions with the functions here so that a value can never break out of
its quotes (an email may legally contain ``'`` or ``"``). Parsing is the sandbox's business: it
has a parser of its own, written from Klaviyo's grammar (``sandboxes/klaviyo/filters.py``), so
a quoting mistake here fails against the sandbox as it would at Klaviyo instead of being read
back by the same code that wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

#: A literal. Lists hold scalars only, as in Klaviyo's grammar.
Scalar = str | int | float | bool | datetime | None
Value = Scalar | tuple[Scalar, ...]

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


# --- reading Klaviyo's datetimes --------------------------------------------------------------


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 datetime (``Z`` or an offset; a date alone means midnight UTC), else None."""
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
