"""The GraphiQL page: our HTML, opening with the example operations, loading GraphiQL's files
from the gateway itself (or the CDN, when set), and a page saying how to install them when
they are not there (a blank "Loading..." page tells nobody anything)."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse

from gateway.examples import Example
from gateway.graphiql.assets import ASSETS, CDN, INSTALL_COMMAND, GraphiQLAssets

log = logging.getLogger("omnigate.graphiql")

_TEMPLATE = Template(Path(__file__).with_name("page.html").read_text())


def content_security_policy(mode: str) -> str:
    """Everything from the gateway's own origin (and the CDN in ``cdn`` mode), no inline
    script: the page's settings travel as JSON, which a browser does not run. React and
    CodeMirror set inline styles; the icons are ``data:`` images."""
    cdn = f" {CDN}" if mode == "cdn" else ""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self'{cdn}",
            f"style-src 'self' 'unsafe-inline'{cdn}",
            f"font-src 'self' data:{cdn}",
            "img-src 'self' data:",
            # 'self' covers the subscriptions' ws:/wss: to the same host (CSP Level 3).
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _json_for_html(value: object) -> str:
    """JSON that cannot close the ``<script>`` element it sits in, whatever the examples hold."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _tag(kind: str, url: str, integrity: str) -> str:
    sri = f' integrity="{integrity}" crossorigin="anonymous"' if integrity else ""
    if kind == "style":
        return f'<link rel="stylesheet" href="{html.escape(url)}"{sri} />'
    return f'<script src="{html.escape(url)}"{sri}></script>'


class GraphiQLPage:
    """Rendered once: the examples and the files' URLs do not change while the gateway runs.

    Built when the app is, so that files not installed are logged at start."""

    def __init__(self, assets: GraphiQLAssets, examples: list[Example]) -> None:
        self.assets = assets
        self.problems = assets.missing()
        if self.problems:
            log.warning(
                "GraphiQL's browser files are not installed (%s). GET /graphql shows how to "
                "install them: `make demo`, or `%s` in a checkout; or set "
                "OMNIGATE_GRAPHIQL_ASSETS=cdn to load them from %s.",
                "; ".join(self.problems),
                INSTALL_COMMAND,
                CDN,
            )
        tabs = [
            {
                "query": ex.query,
                "headers": json.dumps({"Authorization": f"Bearer {ex.token}"}, indent=2)
                if ex.token
                else None,
                "variables": ex.variables,
            }
            for ex in examples
        ]
        # Subresource integrity for the CDN's copies; the gateway's own are the lock's.
        sri = assets.mode == "cdn"
        tags = {
            kind: [
                _tag(kind, assets.url(a), a.integrity if sri else "")
                for a in ASSETS
                if a.kind == kind
            ]
            for kind in ("style", "script")
        }
        self.html = _TEMPLATE.substitute(
            styles="\n    ".join(tags["style"]),
            scripts="\n    ".join([*tags["script"], _tag("script", assets.page_script_url, "")]),
            config=_json_for_html({"tabs": tabs}),
        )
        self.headers = {
            "Content-Security-Policy": content_security_policy(assets.mode),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def response(self) -> HTMLResponse:
        if self.problems:
            # Not a 500: the gateway works, only the page's files are missing.
            return HTMLResponse(_missing_page(self.problems), status_code=503, headers=self.headers)
        return HTMLResponse(self.html, headers=self.headers)


def _missing_page(problems: list[str]) -> str:
    items = "\n".join(f"      <li>{html.escape(p)}</li>" for p in problems)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>GraphiQL is not installed</title>
    <style>
      body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; }}
      code {{ background: #f2f2f2; padding: 0 0.25em; }}
    </style>
  </head>
  <body>
    <h1>GraphiQL's files are not installed</h1>
    <p>The gateway serves GraphiQL's scripts itself (so the page works offline), from the npm
    packages pinned in <code>web/graphiql/package-lock.json</code>, and they are not there:</p>
    <ul>
{items}
    </ul>
    <p>Install them from the repository's checkout, then reload this page:</p>
    <ul>
      <li><code>make demo</code> (installs them, then starts the demo), or</li>
      <li><code>{INSTALL_COMMAND}</code> (needs Node.js and npm).</li>
    </ul>
    <p>Or set <code>OMNIGATE_GRAPHIQL_ASSETS=cdn</code> to load them from {CDN} (the browser
    then needs internet access).</p>
    <p>The GraphQL endpoint itself works: <code>POST /graphql</code>.</p>
  </body>
</html>
"""
