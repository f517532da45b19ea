"""docs/connectors/square.md stays in step with the code: permissions, subscriptions and
every control route of the sandbox (each with a curl example)."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.square.client import REQUIRED_SCOPES
from connectors.square.webhooks import EVENT_TYPES
from sandboxes.base.faults import CONTROL_PREFIX
from sandboxes.demo import DemoWorld
from sandboxes.square import create_sandbox

DOC = Path(__file__).resolve().parents[3] / "docs" / "connectors" / "square.md"


def test_the_doc_lists_every_scope_and_subscription() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in (*sorted(REQUIRED_SCOPES), *EVENT_TYPES):
        assert f"`{name}`" in doc, name
    assert "OMNIGATE_SQUARE_LOCATION_MAP" in doc


def test_every_control_route_is_documented_with_curl(base_world: DemoWorld) -> None:
    doc = DOC.read_text(encoding="utf-8")
    section = doc.split("## Control API", 1)[1]
    app = create_sandbox(base_world, access_token="t", signature_key="k")
    routes = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(CONTROL_PREFIX)
        and route.method != "HEAD"
    }
    curls = section.count("curl ")
    assert curls >= len(routes)
    for method, path in routes:
        heading = re.escape(f"`{method} {path}`")
        assert re.search(heading, section), f"{method} {path} is not documented"
