"""What the Lightspeed API sends and signs, shared by the connector and its fake (a real
vendor's fake would keep its own copy; this one is a test fixture, not a vendor check)."""

from __future__ import annotations

import base64
import hashlib
import hmac

#: The header that carries a webhook's signature: base64(HMAC-SHA256(secret, body)).
SIGNATURE_HEADER = "x-lightspeed-signature"
#: The header that names the delivery's topic (``customer.updated``...).
TOPIC_HEADER = "x-lightspeed-topic"


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
