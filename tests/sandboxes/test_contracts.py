"""The import contracts in ``pyproject.toml`` bite: each one is broken on purpose in a copy of
the source tree, and ``lint-imports`` must report that contract, and only that one, broken
(naming the offending import). The real tree keeping them is ``make check``'s job."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("connectors", "gateway", "resolvers", "schema", "sandboxes")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "One-way layers: gateway -> schema -> resolvers -> connectors"
NO_SANDBOXES = "The product never imports the sandboxes (they are not in its wheel)"
VENDORS_APART = "Vendor packages never import each other"
RECORDS_ONLY = "Sandboxes import only the shared value types (connectors.records) from the product"
VENDORS_BY_NAME = (
    "Outside connectors, nothing imports a vendor package (the registry loads them by name)"
)
NO_CYCLES = "No import cycles between the modules and packages of one package"
CONTRACTS = (LAYERS, NO_SANDBOXES, VENDORS_APART, RECORDS_ONLY, VENDORS_BY_NAME, NO_CYCLES)


def copy_tree(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            target / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.graphql", "*.md"),
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lint_imports(tree: Path) -> dict[str, str]:
    """Each contract's verdict (``KEPT``/``BROKEN``), and the whole report under ``"output"``.
    lint-imports puts its working directory first on ``sys.path``, so it reads the copy."""
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = " ".join(result.stdout.split())  # long names wrap; compare on single spaces
    verdicts = {
        name: match.group(1)
        for name in CONTRACTS
        if (match := re.search(re.escape(name) + r" (KEPT|BROKEN)", output))
    }
    assert len(verdicts) == len(CONTRACTS), result.stdout + result.stderr
    return {**verdicts, "output": output, "exit": str(result.returncode)}


def add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n{statement}  # noqa\n")


def test_the_copied_tree_keeps_every_contract(tmp_path: Path) -> None:
    verdicts = lint_imports(copy_tree(tmp_path))
    assert [verdicts[name] for name in CONTRACTS] == ["KEPT"] * len(CONTRACTS)
    assert verdicts["exit"] == "0"


@pytest.mark.parametrize(
    ("module", "statement", "broken", "reported"),
    [
        pytest.param(
            "connectors/shopify/client.py",
            "from sandboxes.shopify import cost",
            NO_SANDBOXES,
            "connectors.shopify.client -> sandboxes.shopify.cost",
            id="a connector imports a sandbox",
        ),
        pytest.param(
            "resolvers/locations.py",
            "import sandboxes.demo",
            NO_SANDBOXES,
            "resolvers.locations -> sandboxes.demo",
            id="a resolver imports the demo world",
        ),
        pytest.param(
            "connectors/square/client.py",
            "from connectors.klaviyo import filters",
            VENDORS_APART,
            "connectors.square.client -> connectors.klaviyo.filters",
            id="a vendor imports another vendor",
        ),
        pytest.param(
            "sandboxes/shopify/api.py",
            "from connectors.shopify import cost",
            RECORDS_ONLY,
            "sandboxes.shopify.api -> connectors.shopify.cost",
            id="a sandbox imports the client it fakes",
        ),
        pytest.param(
            "sandboxes/klaviyo/limits.py",
            "from connectors.http import HttpClient",
            RECORDS_ONLY,
            "sandboxes.klaviyo.limits -> connectors.http",
            id="a sandbox imports shared product plumbing",
        ),
        pytest.param(
            "sandboxes/demo/world.py",
            "import gateway.settings",
            RECORDS_ONLY,
            "sandboxes.demo.world -> gateway.settings",
            id="the demo world imports the gateway",
        ),
        pytest.param(
            "gateway/demo.py",
            "from connectors.shopify import vendor",
            VENDORS_BY_NAME,
            "gateway.demo -> connectors.shopify.vendor",
            id="the gateway names a vendor package",
        ),
        pytest.param(
            "schema/sources.py",
            "import connectors.square.source",
            VENDORS_BY_NAME,
            "schema.sources -> connectors.square.source",
            id="the schema names a vendor package",
        ),
        pytest.param(
            "resolvers/customers/sync.py",
            "from resolvers.context import Services",
            NO_CYCLES,
            ".customers -> .context",
            id="the customer use cases import the services container back",
        ),
    ],
)
def test_each_contract_fails_when_violated(
    tmp_path: Path, module: str, statement: str, broken: str, reported: str
) -> None:
    tree = copy_tree(tmp_path)
    add_import(tree / module, statement)
    verdicts = lint_imports(tree)
    assert verdicts[broken] == "BROKEN"
    assert reported in verdicts["output"]
    assert [name for name in CONTRACTS if verdicts[name] == "BROKEN"] == [broken]
    assert verdicts["exit"] != "0"
