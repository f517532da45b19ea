"""Comparable keys from contact data as people and cashiers type it."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(raw: str | None) -> str | None:
    """Trimmed, lower-cased; ``None`` when it is not an address at all.

    Lower-casing the local part is technically lossy, but every vendor here treats emails
    case-insensitively, and the POS quirk (upper-case emails) demands it.
    """
    if not raw:
        return None
    value = raw.strip().lower()
    value = value.removeprefix("mailto:")
    return value if _EMAIL.match(value) else None


@lru_cache(maxsize=65536)
def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 for a valid number in any local format; ``None`` for junk like ``0000000000``.

    Cached because the same household and store numbers recur across thousands of records and
    parsing is the expensive part of resolution.
    """
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def name_key(first: str | None, last: str | None) -> str | None:
    """``"jose garcia"`` for ``"José", "García "``: accents folded, case and spacing ignored.
    ``None`` unless both parts are present: a first name alone identifies nobody."""
    parts = [_fold(p) for p in (first, last)]
    if not all(parts):
        return None
    return " ".join(parts)


def name_tokens(*names: str | None) -> list[str]:
    """Lower-case tokens of every name part, for prefix lookup at the counter."""
    tokens: list[str] = []
    for name in names:
        folded = _fold(name)
        if folded:
            tokens.extend(t for t in folded.split(" ") if t)
    return tokens


def _fold(value: str | None) -> str:
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())
