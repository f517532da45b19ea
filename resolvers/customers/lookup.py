"""Counter lookup: find the person at the till by email, phone in any format, or name.

Served from the store's indexes only (no upstream call), ranked exact-first: an exact email
or phone, then an exact full name, then whole-word name matches, then prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from resolvers.identity.normalize import name_tokens, normalize_email, normalize_phone
from resolvers.model import ProfileDoc
from resolvers.store import ProfileStore

_PHONEISH = re.compile(r"^[\d\s()+.\-]{7,}$")
#: Most name matches read to fill one page when some are left out (``keep``).
MAX_NAME_POOL = 2000


def classify_query(query: str, region: str) -> tuple[str, str] | None:
    """``("email"|"phone"|"name", key)`` or ``None`` when nothing usable was typed."""
    text = query.strip()
    if not text:
        return None
    if "@" in text:
        email = normalize_email(text)
        return ("email", email) if email else None
    if _PHONEISH.match(text) and sum(c.isdigit() for c in text) >= 7:
        phone = normalize_phone(text, region)
        return ("phone", phone) if phone else None
    tokens = name_tokens(text)
    return ("name", " ".join(tokens)) if tokens else None


async def lookup(
    profiles: ProfileStore,
    query: str,
    *,
    first: int,
    region: str,
    keep: Callable[[ProfileDoc], bool] | None = None,
) -> list[ProfileDoc]:
    """Profiles for a counter query, exact matches first. ``keep`` filters name matches
    (a store-bound token sees only its stores' customers by name): the pool read from the
    store grows, up to ``MAX_NAME_POOL``, until it fills the page or runs out."""
    kind = classify_query(query, region)
    if kind is None:
        return []
    what, key = kind
    if what == "email":
        return await profiles.find_profiles(email=key, limit=first)
    if what == "phone":
        return await profiles.find_profiles(phone=key, limit=first)
    # Fetch more than asked so ranking can bring exact matches forward.
    pool = max(first * 5, 50)
    while True:
        found = await profiles.find_profiles(name_prefix=key, limit=pool)
        kept = found if keep is None else [doc for doc in found if keep(doc)]
        if keep is None or len(kept) >= first or len(found) < pool or pool >= MAX_NAME_POOL:
            break
        pool = min(pool * 4, MAX_NAME_POOL)
    return sorted(kept, key=lambda doc: (_rank(doc, key), doc.id))[:first]


def _rank(doc: ProfileDoc, key: str) -> int:
    if key in doc.names and " " in key:
        return 0  # exact full name
    if key in doc.names:
        return 1  # a whole word: "lee" matches "ann lee" before "leeds"
    return 2
