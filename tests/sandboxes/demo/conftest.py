"""Shared demo worlds. Generated once per session: tests that change a world make their own."""

from __future__ import annotations

import pytest

from sandboxes.demo import DemoWorld, generate

#: Big enough that every quirk is planted several times and the mix is measurable.
LARGE = 5_000


@pytest.fixture(scope="session")
def world() -> DemoWorld:
    """The default world (200 people, seed 7), as the sandboxes serve it by default."""
    return generate()


@pytest.fixture(scope="session")
def large_world() -> DemoWorld:
    return generate(people=LARGE, seed=11)
