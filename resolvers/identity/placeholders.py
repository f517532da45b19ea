"""Values that must never join two people: what a cashier types when the customer has no
email or will not give one (``none@none.com``, the store's own address, ``0000000000``).

Two sources of truth: a configured blocklist (exact values and local-part patterns), and the
data itself, where a value held by more distinct people than a threshold is treated as a
placeholder and reported, because no real address is shared by a dozen strangers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_EMAILS: frozenset[str] = frozenset(
    {
        "none@none.com",
        "no@email.com",
        "noemail@noemail.com",
        "na@na.com",
        "test@test.com",
        "email@email.com",
        "customer@example.com",
    }
)
#: Local parts that mean "no email" whatever the domain (``noemail@gmail.com``).
DEFAULT_LOCAL_PARTS: tuple[str, ...] = (
    r"no-?e?mail",
    r"none",
    r"no",
    r"na",
    r"n/?a",
    r"unknown",
    r"noreply",
    r"no-?reply",
    r"declined?",
    r"refused",
)
DEFAULT_PHONES: frozenset[str] = frozenset({"+15555555555", "+12125551212"})


@dataclass
class Placeholders:
    emails: set[str] = field(default_factory=lambda: set(DEFAULT_EMAILS))
    phones: set[str] = field(default_factory=lambda: set(DEFAULT_PHONES))
    local_parts: tuple[str, ...] = DEFAULT_LOCAL_PARTS
    #: Values found in the data, with how many identities held them (for the report).
    detected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The whole local part must be the pattern (digits allowed: ``noemail2``), so that a
        # real ``no.smith@…`` or ``nadia@…`` is never caught.
        self._local = re.compile(r"^(?:" + "|".join(self.local_parts) + r")\d*$")

    def add(self, values: Iterable[str]) -> None:
        for value in values:
            (self.emails if "@" in value else self.phones).add(value)

    def is_placeholder_email(self, email: str) -> bool:
        if email in self.emails:
            return True
        local = email.partition("@")[0]
        return bool(self._local.match(local))

    def is_placeholder_phone(self, phone: str) -> bool:
        return phone in self.phones

    def detect(self, holders: dict[str, set[str]], threshold: int) -> list[str]:
        """Mark every value held by more than ``threshold`` distinct people (by name key or
        record) as a placeholder; returns the newly found ones."""
        found = []
        for value, people in holders.items():
            if len(people) > threshold and not self._known(value):
                self.detected[value] = len(people)
                self.add([value])
                found.append(value)
        return found

    def _known(self, value: str) -> bool:
        if "@" in value:
            return self.is_placeholder_email(value)
        return self.is_placeholder_phone(value)
