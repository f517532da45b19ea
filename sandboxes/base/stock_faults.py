"""How a stock change reaches the gateway, when a test asks for the webhooks' bad days.

Vendors deliver inventory webhooks at least once, in no guaranteed order, and sometimes not
at all. The inventory control routes of the Shopify and Square sandboxes take three options,
parsed here once so both mean the same thing:

- ``duplicates: n`` delivers each webhook n extra times, byte for byte (same signature, same
  event and webhook ids), as the vendor's retries do;
- ``out_of_order: true`` makes two changes (the one asked for, then ``then``, by default one
  unit less, or one more when nothing is left) and delivers the newer webhook first, then the
  older one;
- ``webhook: false`` changes the count silently: the level's timestamp moves upstream, no
  webhook is sent (a lost delivery), so only a re-read can see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StockDelivery:
    duplicates: int = 0
    out_of_order: bool = False
    webhook: bool = True
    #: The second change of an out-of-order pair: ``{"delta": n}`` or ``{"<absolute>": n}``.
    then: Mapping[str, Any] | None = None

    def second_delta(self, available: int, absolute: str) -> int:
        """The second change as a delta from ``available`` (after the first change);
        ``absolute`` names the route's absolute field (Shopify ``available``, Square
        ``quantity``)."""
        then = self.then or {}
        if absolute in then:
            target = then[absolute]
            if not isinstance(target, int) or isinstance(target, bool) or target < 0:
                raise ValueError(f"then.{absolute} must be a non-negative integer")
            return target - available
        if "delta" in then:
            delta = then["delta"]
            if not isinstance(delta, int) or isinstance(delta, bool):
                raise ValueError("then.delta must be an integer")
            return delta
        return -1 if available > 0 else 1


def stock_delivery(body: Mapping[str, Any]) -> StockDelivery:
    """The options of an inventory control body; ``ValueError`` says what is wrong."""
    duplicates = body.get("duplicates", 0)
    if not isinstance(duplicates, int) or isinstance(duplicates, bool) or not 0 <= duplicates <= 20:
        raise ValueError("duplicates must be an integer from 0 to 20")
    out_of_order = body.get("out_of_order", False)
    webhook = body.get("webhook", True)
    if not isinstance(out_of_order, bool) or not isinstance(webhook, bool):
        raise ValueError("out_of_order and webhook must be booleans")
    then = body.get("then")
    if then is not None and not isinstance(then, Mapping):
        raise ValueError("then must be an object")
    if then is not None and not out_of_order:
        raise ValueError("then is the second change of out_of_order: true")
    return StockDelivery(duplicates, out_of_order, webhook, then)


__all__ = ["StockDelivery", "stock_delivery"]
