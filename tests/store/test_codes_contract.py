"""The :class:`~resolvers.store.CodeStore` contract on every backend (see
``tests/store/conftest.py``): one code, one customer, however many registrations race."""

from __future__ import annotations

import asyncio

from resolvers.store import CodeStore
from resolvers.store.codes import CodeOwner, CodePurpose


def owner(code: str, customer_id: str, purpose: CodePurpose = CodePurpose.MEMBER) -> CodeOwner:
    return CodeOwner(code=code, customer_id=customer_id, purpose=purpose)


async def test_a_registered_code_finds_its_customer(codes: CodeStore) -> None:
    assert await codes.code_owner("ABCDEFGH12") is None
    refused = await codes.register_codes(
        [owner("ABCDEFGH12", "cus_1"), owner("ZYXWVTSR98", "cus_1", CodePurpose.REFERRAL)]
    )
    assert refused == []
    assert await codes.code_owner("ABCDEFGH12") == owner("ABCDEFGH12", "cus_1")
    assert await codes.code_owner("ZYXWVTSR98") == owner(
        "ZYXWVTSR98", "cus_1", CodePurpose.REFERRAL
    )
    # Registering again (every profile build does) changes nothing.
    assert await codes.register_codes([owner("ABCDEFGH12", "cus_1")]) == []
    assert await codes.code_owner("ABCDEFGH12") == owner("ABCDEFGH12", "cus_1")


async def test_a_code_held_by_another_customer_stays_theirs(codes: CodeStore) -> None:
    await codes.register_codes([owner("ABCDEFGH12", "cus_1")])
    refused = await codes.register_codes(
        [owner("ABCDEFGH12", "cus_2"), owner("QQQQQQQQQQ", "cus_2")]
    )
    assert refused == [owner("ABCDEFGH12", "cus_1")]
    assert await codes.code_owner("ABCDEFGH12") == owner("ABCDEFGH12", "cus_1")
    assert await codes.code_owner("QQQQQQQQQQ") == owner("QQQQQQQQQQ", "cus_2")


async def test_racing_registrations_of_one_code_keep_one_owner(codes: CodeStore) -> None:
    same = await asyncio.gather(
        *(codes.register_codes([owner("RACE000001", "cus_1")]) for _ in range(8))
    )
    assert same == [[]] * 8
    rivals = await asyncio.gather(
        *(codes.register_codes([owner("RACE000002", f"cus_{i}")]) for i in range(8))
    )
    held = await codes.code_owner("RACE000002")
    assert held is not None
    # Exactly one registration won; every other one was told whose it is.
    assert sum(1 for r in rivals if r == []) == 1
    assert all(r in ([], [held]) for r in rivals)


async def test_forgetting_a_customer_drops_their_codes_only(codes: CodeStore) -> None:
    await codes.register_codes(
        [
            owner("ABCDEFGH12", "cus_1"),
            owner("ZYXWVTSR98", "cus_1", CodePurpose.REFERRAL),
            owner("QQQQQQQQQQ", "cus_2"),
        ]
    )
    assert await codes.forget_codes("cus_1") == 2
    assert await codes.code_owner("ABCDEFGH12") is None
    assert await codes.code_owner("ZYXWVTSR98") is None
    assert await codes.code_owner("QQQQQQQQQQ") == owner("QQQQQQQQQQ", "cus_2")
    assert await codes.forget_codes("cus_1") == 0
