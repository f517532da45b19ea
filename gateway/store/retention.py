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
#: How long a finished hold document is kept before the TTL monitor deletes it (``purge_at``
#: is set when it finishes). Unfinished holds have no ``purge_at``: the expiry sweeper
#: (``expired_holds`` + ``finish_hold``) is what gives units back, and deleting a hold that
#: still counts in ``held`` would strand its units.
DEFAULT_HOLD_RETENTION = timedelta(days=30)
