"""Nothing outside a vendor's package names it: the gateway, the resolvers, the schema and the
shared connector modules learn every vendor from the registry (``connectors.vendors``, whose
``BUILT_IN`` is the one place a built-in vendor's package is named).

Naming means code: identifiers, imports and string values. Docstrings, comments and settings'
``description=`` texts may use a vendor as an example.
"""

from __future__ import annotations

import ast
from pathlib import Path

from connectors import vendors as registry

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("connectors", "gateway", "resolvers", "schema")
#: Everything outside tests/ and the docs.
CODE = (*PRODUCT, "sandboxes", "bench", "scripts")


def product_modules() -> list[Path]:
    """Product modules outside the vendor packages, and not the registry itself."""
    vendor_dirs = [ROOT / Path(*p.split(".")) for p in registry.BUILT_IN]
    return [
        path
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if not any(path.is_relative_to(d) for d in vendor_dirs)
        and path != ROOT / "connectors" / "vendors.py"
    ]


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def descriptions(tree: ast.AST) -> set[int]:
    """String values of ``description=`` arguments (settings' and the schema's docs)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "description":
            found.update(id(n) for n in ast.walk(node.value) if isinstance(n, ast.Constant))
    return found


def names_in(path: Path) -> list[str]:
    """Every identifier, imported module and string value in ``path``, docs left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree) | descriptions(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found.append(node.value)
        elif isinstance(node, ast.Name):
            found.append(node.id)
        elif isinstance(node, ast.Attribute):
            found.append(node.attr)
        elif isinstance(node, ast.alias):
            found.extend([node.name, node.asname or ""])
        elif isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append(node.name)
        elif isinstance(node, ast.arg):
            found.append(node.arg)
    return found


def test_no_product_module_names_a_built_in_vendor() -> None:
    vendors = [v.name for v in registry.vendors()]
    naming = {
        f"{path.relative_to(ROOT)}: {name!r}"
        for path in product_modules()
        for name in names_in(path)
        if any(vendor in name.lower() for vendor in vendors)
    }
    assert sorted(naming) == []


def test_the_check_sees_a_vendor_named_in_code(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Shopify in a docstring is fine."""\n'
        'LIMITS = {"square": 10}\n'
        "from connectors.klaviyo import VENDOR\n"
        'x = Field(1, description="Shopify waits five")\n'
    )
    assert [n for n in names_in(module) if "shopify" in n.lower()] == []
    assert "square" in names_in(module)
    assert "connectors.klaviyo" in names_in(module)


def test_no_code_outside_tests_names_the_test_vendor() -> None:
    """``tests/vendors/lightspeed`` exists only in the tests: no code outside ``tests/``
    mentions it, not even in a comment, so all the gateway knows of it came through its
    registration in ``test_extra_vendor.py``."""
    naming = [
        str(path.relative_to(ROOT))
        for package in CODE
        for path in sorted((ROOT / package).rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".graphql", ".toml", ".json", ".cfg"}
        and "lightspeed" in path.read_text(encoding="utf-8", errors="replace").lower()
    ]
    assert naming == []
    assert "lightspeed" not in (ROOT / "pyproject.toml").read_text().lower()
