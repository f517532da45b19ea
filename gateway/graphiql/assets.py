"""GraphiQL's browser files: which ones the page loads, where they come from, and the route
that serves them.

They are npm packages, pinned by ``web/graphiql/package-lock.json`` and installed into its
``node_modules/`` with ``npm ci`` (``make demo`` and ``make test`` do it), never committed.
Each is served at its unpkg path (``react@18.3.1/umd/…``) under ``/graphiql/assets/``, so the
same name reaches the local copy or, with ``OMNIGATE_GRAPHIQL_ASSETS=cdn``, the CDN's; the
versions and subresource-integrity hashes below are the lock's files (a test keeps them in
step). Only the files listed here are served: the route never maps a URL onto the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

#: The npm project whose ``node_modules/`` holds the files (a checkout's ``web/graphiql``).
WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "graphiql"
#: Where the page finds them when ``graphiql_assets`` is ``cdn``.
CDN = "https://unpkg.com"
#: The URL prefix of the route.
PREFIX = "/graphiql/assets"
#: Our own script, beside this module: it is the page's code, not a package's.
PAGE_SCRIPT = "omnigate-graphiql.js"
INSTALL_COMMAND = "npm ci --prefix web/graphiql"

AssetsMode = Literal["local", "cdn"]

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
}


@dataclass(frozen=True, slots=True)
class Asset:
    package: str
    version: str
    #: Inside the package, as in ``node_modules/<package>/``.
    file: str
    #: ``script`` and ``style`` are loaded by the page, in this order; ``map`` only by a
    #: browser's developer tools.
    kind: Literal["script", "style", "map"]
    #: The file's sha384, which the browser checks a CDN copy against.
    integrity: str = ""

    @property
    def path(self) -> str:
        """As unpkg names it: ``<package>@<version>/<file>``."""
        return f"{self.package}@{self.version}/{self.file}"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[Path(self.file).suffix]


ASSETS: tuple[Asset, ...] = (
    Asset(
        "react",
        "18.3.1",
        "umd/react.production.min.js",
        "script",
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    ),
    Asset(
        "react-dom",
        "18.3.1",
        "umd/react-dom.production.min.js",
        "script",
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    ),
    # GraphiQL's bundle carries graphql-js and graphql-ws (the subscriptions' client).
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.css",
        "style",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.js",
        "script",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset("graphiql", "3.8.3", "graphiql.min.js.map", "map"),
    Asset(
        "@graphiql/plugin-explorer",
        "3.2.5",
        "dist/style.css",
        "style",
        "sha384-YN9MumWidbWKuNj8VfH5ggrFvm9YqAoIOMnKYpeGL3dr7Eg1qnQ+SAqSthdNZCjz",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "3.2.5",
        "dist/index.umd.js",
        "script",
        "sha384-5p6hGdlOTvUy6Wf0GauxCz+xM9YB/YYvcGG+bf9msr2eyd+KVIxgRkepHgUijedJ",
    ),
)


class GraphiQLAssets:
    """The files of one page: their URLs (local or CDN) and, locally, the route serving them.

    ``directory`` is the npm project (``WEB_DIR`` by default)."""

    def __init__(self, mode: AssetsMode, directory: Path | None = None) -> None:
        self.mode = mode
        self.directory = directory or WEB_DIR
        self._files = {a.path: a for a in ASSETS}

    def missing(self) -> list[str]:
        """What keeps the local copies from being served, one line each (nothing in ``cdn``
        mode): a package not installed, or installed at another version than the lock's."""
        if self.mode == "cdn":
            return []
        problems = []
        for package in dict.fromkeys(a.package for a in ASSETS):
            files = [a for a in ASSETS if a.package == package]
            installed = self._installed_version(package)
            if installed is None:
                problems.append(f"{package}@{files[0].version} is not installed")
            elif installed != files[0].version:
                problems.append(f"{package} is {installed}, the lock has {files[0].version}")
            else:
                problems += [
                    f"{a.path} is missing"
                    for a in files
                    if a.kind != "map" and not self._file(a).is_file()
                ]
        return problems

    def url(self, asset: Asset) -> str:
        base = CDN if self.mode == "cdn" else PREFIX
        return f"{base}/{asset.path}"

    @property
    def page_script_url(self) -> str:
        return f"{PREFIX}/{PAGE_SCRIPT}"

    async def serve(self, request: Request) -> Response:
        """``GET /graphiql/assets/{path}``: one of the listed files, or our page script."""
        path = request.path_params["path"]
        if path == PAGE_SCRIPT:
            return FileResponse(
                Path(__file__).with_name(PAGE_SCRIPT),
                media_type=_MEDIA_TYPES[".js"],
                headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
            )
        asset = self._files.get(path) if self.mode == "local" else None
        if asset is None or not self._file(asset).is_file():
            return PlainTextResponse("Not Found", status_code=404)
        # The version is in the URL: a new one is a new URL, so a copy never goes stale.
        return FileResponse(
            self._file(asset),
            media_type=asset.media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _file(self, asset: Asset) -> Path:
        return self.directory / "node_modules" / asset.package / asset.file

    def _installed_version(self, package: str) -> str | None:
        try:
            manifest = json.loads(
                (self.directory / "node_modules" / package / "package.json").read_text()
            )
        except (OSError, ValueError):
            return None
        version = manifest.get("version") if isinstance(manifest, dict) else None
        return version if isinstance(version, str) else None
