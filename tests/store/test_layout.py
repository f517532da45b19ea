"""The store's shape, as issue #17 set it: one port per aggregate, each with a memory and a
MongoDB implementation in a module of its own and a contract suite of its own, and no store
module past 400 lines (one that grows that far holds more than one concern)."""

from __future__ import annotations

import inspect
from pathlib import Path

from resolvers.store import Store

ROOT = Path(__file__).resolve().parents[2]
MOST_LINES = 400


def ports() -> list[str]:
    return sorted(name for name, _ in inspect.getmembers(Store, lambda m: isinstance(m, property)))


def test_the_composite_has_one_port_per_aggregate() -> None:
    assert ports() == [
        "catalog",
        "checkpoints",
        "codes",
        "identities",
        "inventory",
        "leases",
        "ledger",
        "profiles",
        "saved_segments",
        "segments",
        "webhooks",
    ]


def test_each_port_has_its_modules_and_its_contract_suite() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for port in ports()
        for path in (
            ROOT / "resolvers" / "store" / f"{port}.py",
            ROOT / "gateway" / "store" / "memory" / f"{port}.py",
            ROOT / "gateway" / "store" / "mongo" / f"{port}.py",
            ROOT / "tests" / "store" / f"test_{port}_contract.py",
        )
        if not path.is_file()
    ]
    assert missing == []


def test_no_store_module_is_larger_than_400_lines() -> None:
    modules = [
        *(ROOT / "resolvers" / "store").rglob("*.py"),
        *(ROOT / "gateway" / "store").rglob("*.py"),
    ]
    assert len(modules) > 20
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text().splitlines())) > MOST_LINES
    }
    assert too_long == {}
