"""How long each backend keeps the gateway's own bookkeeping, unless settings say otherwise.

One place for both implementations, so the demo (memory) forgets what production (MongoDB's
TTL indexes) forgets.
"""

from __future__ import annotations

from datetime import timedelta

#: Webhook receipts: longer than any vendor retries a delivery.
DEFAULT_RECEIPT_RETENTION = timedelta(days=7)
#: Dead letters hold raw webhook bodies (personal data): kept long enough to be looked at and
#: replayed after a fix, then deleted by a TTL index.
DEFAULT_DEAD_LETTER_RETENTION = timedelta(days=14)
#: How long a finished or forgotten hold document outlives its expiry before the TTL monitor
#: deletes it. Long on purpose: the expiry sweeper (``expired_holds`` + ``finish_hold``) is what
#: releases units; the TTL index only stops the collection growing, and deleting a hold that
#: is still active would strand its units in ``held``.
DEFAULT_HOLD_RETENTION = timedelta(days=30)
