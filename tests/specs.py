"""Where the vendors' published specifications are, for the contract tests.

They are not in this repository: they sit beside it, in ``../shared/specs`` (the vendors' own
files, see that folder's README). A clone on its own has no such folder, so the tests that
need them skip, each with :func:`missing`'s message; the README's Tests section lists them.
"""

from __future__ import annotations

from pathlib import Path

#: ``../shared/specs`` from the repository root, resolved (so a message names a real path).
SPECS = (Path(__file__).resolve().parents[1] / ".." / "shared" / "specs").resolve()


def missing(what: str, path: Path) -> str:
    """The skip message of a contract test whose spec file is absent."""
    return (
        f"contract check skipped: {what} not found at {path} "
        "(the vendor specs live in ../shared/specs beside the repository, which a plain "
        "clone lacks; see README, Tests)"
    )
