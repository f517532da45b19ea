"""Two distributions in one repository: ``omnigate`` (the product) and
``omnigate-sandboxes`` (the vendor fakes and the demo world). The product's wheel must not
carry the sandboxes (nor the tests or the benchmark), and the sandboxes' own distribution
must carry every one of its packages.

Both are checked with setuptools' own reading of each ``pyproject.toml`` (package discovery
included), in a fresh interpreter: the package list a wheel build would use, in a fraction
of a second and without writing a build directory into the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

_READ = """
import json, sys, warnings
warnings.simplefilter("ignore")
from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

dist = apply_configuration(Distribution(), sys.argv[1])
print(json.dumps({
    "name": dist.get_name(),
    "packages": sorted(dist.packages or []),
    "py_modules": sorted(dist.py_modules or []),
    "package_dir": dist.package_dir or {},
    "package_data": dist.package_data or {},
    "requires": [str(r) for r in dist.install_requires or []],
}))
"""


def distribution(pyproject: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _READ, str(pyproject)],
        cwd=pyproject.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def folders_with_packages(root: Path, prefix: str) -> set[str]:
    return {
        ".".join((prefix, *init.parent.relative_to(root).parts))
        for init in root.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_the_omnigate_wheel_carries_the_product_and_no_sandbox() -> None:
    product = distribution(ROOT / "pyproject.toml")
    assert product["name"] == "omnigate"
    tops = {name.split(".")[0] for name in product["packages"]}
    assert tops == {"connectors", "gateway", "resolvers", "schema"}
    assert product["py_modules"] == []
    assert product["package_dir"] in ({}, {"": "."})
    for name in ("connectors", "gateway", "resolvers", "schema"):
        assert folders_with_packages(ROOT / name, name) <= set(product["packages"])
    assert not any(name.split(".")[0] in {"sandboxes", "tests", "bench"} for name in tops)
    assert not any("sandbox" in name or "demo" in name for name in product["packages"])


def test_the_sandboxes_distribution_carries_every_sandbox_package_and_the_trimmed_sdl() -> None:
    sandboxes = distribution(ROOT / "sandboxes" / "pyproject.toml")
    assert sandboxes["name"] == "omnigate-sandboxes"
    assert sandboxes["package_dir"] == {"sandboxes": "."}
    assert set(sandboxes["packages"]) == folders_with_packages(ROOT / "sandboxes", "sandboxes")
    assert any(r.startswith("omnigate") and "sandboxes" not in r for r in sandboxes["requires"])
    patterns = [p for key, values in sandboxes["package_data"].items() for p in values]
    assert "*.graphql" in patterns
