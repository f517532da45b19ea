from __future__ import annotations

from pathlib import Path

from gateway.settings import reference_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_reference_is_current() -> None:
    readme = README.read_text()
    start = readme.index("<!-- settings:start")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- settings:end -->")
    assert readme[start:end].strip() == reference_table(), "run `make docs`"
