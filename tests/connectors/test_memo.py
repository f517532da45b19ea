"""The bounded memo behind the Shopify client's costs and the sandbox's documents."""

from __future__ import annotations

import pytest

from connectors.memo import Memo


def test_computes_once_per_key_and_starts_over_when_full() -> None:
    calls: list[str] = []
    memo: Memo[str, int] = Memo(size=2)

    def compute(key: str) -> int:
        calls.append(key)
        return len(key)

    assert memo.get("a", lambda: compute("a")) == 1
    assert memo.get("a", lambda: compute("a")) == 1
    assert memo.get("bb", lambda: compute("bb")) == 2
    assert calls == ["a", "bb"]
    assert memo.get("ccc", lambda: compute("ccc")) == 3  # full: forgets, keeps the new one
    assert len(memo) == 1
    assert memo.get("a", lambda: compute("a")) == 1
    assert calls == ["a", "bb", "ccc", "a"]


def test_a_failing_computation_is_not_remembered() -> None:
    memo: Memo[str, int] = Memo(size=4)

    def fail() -> int:
        raise ValueError("cannot")

    with pytest.raises(ValueError, match="cannot"):
        memo.get("k", fail)
    assert len(memo) == 0
    assert memo.get("k", lambda: 7) == 7
