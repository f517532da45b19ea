"""A member's codes: the ``memberCode`` shown as a QR code or barcode at the till, and the
``referralCode`` they give to friends.

Both are derived from the unified customer id (random, ``cus_`` + 16 hex digits), so they are
stable without being stored, and the same in every process: Crockford base32 (no I, L, O or
U, so nothing is misread at a counter), 10 characters from SHA-256 of the id and the code's
purpose. The two never coincide for one person, and a referral code says nothing about the
member code.
"""

from __future__ import annotations

import hashlib

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans("OIL", "011")
LENGTH = 10


def _code(purpose: str, customer_id: str) -> str:
    digest = int.from_bytes(hashlib.sha256(f"{purpose}:{customer_id}".encode()).digest(), "big")
    return "".join(_ALPHABET[(digest >> (5 * i)) & 31] for i in range(LENGTH))


def member_code(customer_id: str) -> str:
    return _code("member", customer_id)


def referral_code(customer_id: str) -> str:
    return _code("referral", customer_id)


def normalise(code: str) -> str:
    """What a person typed or a scanner read, as the code is written: upper case, no spaces
    or dashes, and the letters Crockford base32 reads as digits (O→0, I and L→1)."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(_READ_AS)
