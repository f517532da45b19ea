"""Member and referral codes in memory: one dict from code to owner."""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.store.codes import CodeOwner


class MemoryCodes:
    """The :class:`~resolvers.store.CodeStore` of the memory store. Owners are frozen, so
    they are shared."""

    def __init__(self) -> None:
        self._owners: dict[str, CodeOwner] = {}

    async def register_codes(self, owners: Sequence[CodeOwner]) -> list[CodeOwner]:
        refused: list[CodeOwner] = []
        # No await between the check and the write: atomic on the event loop.
        for owner in owners:
            held = self._owners.setdefault(owner.code, owner)
            if held.customer_id != owner.customer_id:
                refused.append(held)
        return refused

    async def code_owner(self, code: str) -> CodeOwner | None:
        return self._owners.get(code)

    async def forget_codes(self, customer_id: str) -> int:
        codes = [code for code, o in self._owners.items() if o.customer_id == customer_id]
        for code in codes:
            del self._owners[code]
        return len(codes)
