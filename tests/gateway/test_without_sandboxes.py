"""The product without its sandboxes: what a production install of the ``omnigate`` wheel
alone (no ``omnigate-sandboxes``) can do.

Each check runs in a fresh interpreter where ``import sandboxes`` fails as it does when the
distribution is absent, so nothing imported earlier by the test session can hide a stray
import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from gateway.demo import SANDBOXES_MISSING

ROOT = Path(__file__).resolve().parents[2]

#: Makes ``import sandboxes`` raise ModuleNotFoundError(name="sandboxes"), as when the
#: distribution is not installed.
WITHOUT_SANDBOXES = 'import sys\nsys.modules["sandboxes"] = None\n'


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIGATE_")}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_SANDBOXES + textwrap.dedent(code)],
        cwd=ROOT,
        env={**env, "OMNIGATE_LOG_FORMAT": "text"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_product_module_imports_and_the_app_builds_without_the_sandboxes() -> None:
    result = run(
        """
        import importlib, json, pkgutil
        import connectors, gateway, resolvers, schema

        names = []
        for package in (connectors, gateway, resolvers, schema):
            names.append(package.__name__)
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
                names.append(info.name)

        from gateway.app import create_app
        from gateway.settings import Settings

        create_app(Settings(_env_file=None, demo=False))
        print(json.dumps({"modules": names, "sandboxes": sorted(
            m for m in sys.modules if m.split(".")[0] == "sandboxes" and sys.modules[m]
        )}))
        """
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["sandboxes"] == []
    assert {"gateway.cli", "gateway.demo", "gateway.app", "connectors.shopify.client"} <= set(
        report["modules"]
    )
    assert len(report["modules"]) > 60  # the walk really imported the product


def test_omnigate_demo_without_the_sandboxes_says_what_to_install() -> None:
    result = run(
        """
        from gateway.cli import main

        raise SystemExit(main(["demo", "--port", "0"]))
        """
    )
    assert result.returncode == 2, result.stderr
    assert SANDBOXES_MISSING in result.stderr
    assert "pip install -e ./sandboxes" in result.stderr
    assert "Traceback" not in result.stderr
