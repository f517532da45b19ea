"""Shopify search syntax (the ``query:`` argument), built safely.

Values are always quoted, so an email with a ``+`` or a SKU with a ``-`` can never be read as
an operator, and whatever a caller passes cannot inject extra terms. Name prefixes are the only
unquoted values (a trailing ``*`` must stay outside quotes); they are reduced to letters, digits
and a few name characters first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

_NAME_TOKEN = re.compile(r"[^\w'.-]+", re.UNICODE)


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def any_of(field: str, values: Iterable[str], *, quoted: bool = True) -> str:
    """``field:"a" OR field:"b"``; empty when there are no values."""
    terms = [f"{field}:{quote(v) if quoted else v}" for v in values if v]
    return " OR ".join(terms)


def either(*clauses: str) -> str:
    """OR of non-empty clauses, each parenthesised when it is itself a compound."""
    parts = [c for c in clauses if c]
    if len(parts) == 1:
        return parts[0]
    return " OR ".join(f"({p})" if " " in p else p for p in parts)


def name_prefix(name: str) -> str:
    """Customers whose first or last name starts with a one-word ``name``; for several words,
    first name starts with the first and last name with the last (``Ada Love``)."""
    tokens = [t for t in (_NAME_TOKEN.sub("", part) for part in name.split()) if t]
    if not tokens:
        return ""
    if len(tokens) == 1:
        return f"first_name:{tokens[0]}* OR last_name:{tokens[0]}*"
    return f"first_name:{tokens[0]}* AND last_name:{tokens[-1]}*"


def updated_since(when: datetime) -> str:
    """``updated_at:>='2026-01-01T00:00:00Z'``: inclusive, so a record updated in the same
    second as the checkpoint is read again rather than missed."""
    utc = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return f"updated_at:>='{utc.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def numeric_any_of(field: str, ids: Iterable[str]) -> str:
    """``customer_id:1 OR customer_id:2``; ids must be numeric (they are validated)."""
    values = []
    for value in ids:
        if not value.isdigit():
            raise ValueError(f"{field} needs numeric ids, got {value!r}")
        values.append(value)
    return any_of(field, values, quoted=False)
