"""Every third-party package the product imports is declared in ``pyproject.toml``'s
``[project] dependencies``, not merely installed because something else pulls it in (``yarl``
came with aiohttp, ``cross-web`` with strawberry): a dependency that drops it, or a version
range that stops covering what we use, would otherwise break an installed gateway."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The packages of the production distribution (the wheel ``pip install omnigate`` gets).
PRODUCT = ("gateway", "schema", "resolvers", "connectors")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = (re.match(r"[A-Za-z0-9._-]+", spec) for spec in project["dependencies"])
    return {_canonical(m.group(0)) for m in names if m}


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> files importing it, for modules neither stdlib nor the repo's own."""
    own = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    found: dict[str, set[str]] = {}
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in own:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_product_is_a_declared_dependency() -> None:
    declared = _declared()
    distributions = importlib.metadata.packages_distributions()
    imports = _third_party_imports()
    assert {"aiohttp", "yarl", "cross_web", "pymongo"} <= set(imports)  # the walk sees them
    undeclared = {
        module: sorted(files)
        for module, files in imports.items()
        if not any(_canonical(d) in declared for d in distributions.get(module, [module]))
    }
    assert undeclared == {}
