"""GraphiQL's page and files (gateway/graphiql): served by the gateway from web/graphiql's
npm install, so the page names no other host; a clear page, not a blank one, when they are not
installed; the CDN only when set. The files here are stand-ins laid out as ``npm ci`` leaves
them, so these tests need no npm; the real ones are checked against the lock when installed
(and in a browser by tests/browser)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from gateway.app import create_app
from gateway.examples import Example
from gateway.graphiql import ASSETS, CDN, PREFIX, GraphiQLAssets, GraphiQLPage, assets
from tests.support import gql, make_settings, page_config, production_settings, serve

LOCK = Path(assets.WEB_DIR) / "package-lock.json"
HTML = {"Accept": "text/html"}


def install(directory: Path, versions: dict[str, str] | None = None) -> None:
    """Each listed file, with its package's manifest, where ``npm ci`` puts them."""
    for asset in ASSETS:
        package = directory / "node_modules" / asset.package
        version = (versions or {}).get(asset.package, asset.version)
        package.mkdir(parents=True, exist_ok=True)
        (package / "package.json").write_text(json.dumps({"version": version}))
        (package / asset.file).parent.mkdir(parents=True, exist_ok=True)
        (package / asset.file).write_text(f"/* {asset.path} */")
    # A file of an installed package that the page does not load: never served.
    (directory / "node_modules" / "graphiql" / "README.md").write_text("not listed")


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An npm project of the test's own (empty until ``install``) in place of web/graphiql."""
    monkeypatch.setattr(assets, "WEB_DIR", tmp_path)
    return tmp_path


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class _Links(HTMLParser):
    """Every URL a page would load, and the scripts it would run inline."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v is not None]
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.inline_scripts += 1


def links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


async def test_the_local_page_loads_everything_from_the_gateway(
    web: Path, http: aiohttp.ClientSession
) -> None:
    install(web)
    async with (
        serve(create_app(make_settings())) as url,
        http.get(f"{url}/graphql", headers=HTML) as r,
    ):
        assert r.status == 200
        assert r.content_type == "text/html"
        html = await r.text()
        csp = r.headers["Content-Security-Policy"]
    page = links(html)
    assert page.inline_scripts == 0
    # Only paths on this origin (and data: icons): no host, so nothing from outside.
    assert page.urls
    for link in page.urls:
        parts = urlsplit(link)
        assert parts.netloc == "", link
        assert parts.scheme in ("", "data"), link
    for asset in ASSETS:
        if asset.kind != "map":
            assert f"{PREFIX}/{asset.path}" in page.urls
    assert f"{PREFIX}/omnigate-graphiql.js" in page.urls
    assert "http" not in csp
    assert "script-src 'self';" in csp
    # The examples open as tabs, with their tokens in the headers editor.
    tabs = page_config(html)["tabs"]
    assert [t["query"].splitlines()[0] for t in tabs][:2] == [
        "# title: Storefront: is the gateway up, and who am I?",
        "# title: Store tablet: who is at the counter?",
    ]
    assert json.loads(tabs[1]["headers"]) == {"Authorization": "Bearer demo-staff"}


async def test_each_file_is_served_with_its_content_type_and_nothing_else_is(
    web: Path, http: aiohttp.ClientSession
) -> None:
    install(web)
    async with serve(create_app(make_settings())) as url:
        for asset in ASSETS:
            async with http.get(f"{url}{PREFIX}/{asset.path}") as r:
                assert r.status == 200, asset.path
                assert (
                    r.headers["Content-Type"]
                    == {
                        "script": "text/javascript; charset=utf-8",
                        "style": "text/css; charset=utf-8",
                        "map": "application/json",
                    }[asset.kind]
                )
                assert await r.text() == f"/* {asset.path} */"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert "immutable" in r.headers["Cache-Control"]
        async with http.get(f"{url}{PREFIX}/omnigate-graphiql.js") as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
            assert "GraphiQL.createFetcher" in await r.text()
            # Ours changes with the gateway, under the same URL.
            assert r.headers["Cache-Control"] == "no-cache"
        for path in (
            "graphiql@3.8.3/README.md",  # installed, not listed
            "graphiql@3.8.2/graphiql.min.js",  # not the lock's version
            "graphiql@3.8.3/../../package.json",
            "graphiql/graphiql.min.js",
            "",
        ):
            async with http.get(f"{url}{PREFIX}/{path}") as r:
                assert r.status == 404, path


async def test_without_the_files_graphiql_says_how_to_install_them(
    web: Path, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="omnigate.graphiql"):
        app = create_app(make_settings())
    (warning,) = [r for r in caplog.records if r.name == "omnigate.graphiql"]
    assert warning.levelno == logging.WARNING
    assert "npm ci --prefix web/graphiql" in warning.getMessage()
    assert "graphiql@3.8.3 is not installed" in warning.getMessage()
    async with serve(app) as url:
        async with http.get(f"{url}/graphql", headers=HTML) as r:
            assert r.status == 503
            assert r.content_type == "text/html"
            html = await r.text()
        # The API itself is unaffected.
        status, body = await gql(http, url, "{ health { version } }")
        assert status == 200
        assert body["data"]["health"]["version"]
    assert "GraphiQL's files are not installed" in html
    assert "<code>make demo</code>" in html
    assert "<code>npm ci --prefix web/graphiql</code>" in html
    assert "OMNIGATE_GRAPHIQL_ASSETS=cdn" in html
    assert "react@18.3.1 is not installed" in html
    assert "<script" not in html
    assert "Loading..." not in html


def test_files_of_another_version_than_the_lock_count_as_missing(web: Path) -> None:
    install(web, versions={"react-dom": "18.2.0"})
    assert GraphiQLAssets("local").missing() == ["react-dom is 18.2.0, the lock has 18.3.1"]
    install(web)
    (web / "node_modules" / "graphiql" / "graphiql.min.css").unlink()
    assert GraphiQLAssets("local").missing() == ["graphiql@3.8.3/graphiql.min.css is missing"]


async def test_the_cdn_setting_loads_the_lock_s_files_from_the_cdn_with_integrity(
    web: Path, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="omnigate.graphiql"):
        app = create_app(make_settings(graphiql_assets="cdn"))
    # Nothing installed, and nothing to warn about: the browser fetches them.
    assert not [r for r in caplog.records if r.name == "omnigate.graphiql"]
    async with serve(app) as url:
        async with http.get(f"{url}/graphql", headers=HTML) as r:
            assert r.status == 200
            html = await r.text()
            csp = r.headers["Content-Security-Policy"]
        async with http.get(f"{url}{PREFIX}/graphiql@3.8.3/graphiql.min.js") as r:
            assert r.status == 404
        async with http.get(f"{url}{PREFIX}/omnigate-graphiql.js") as r:
            assert r.status == 200
    for asset in ASSETS:
        if asset.kind == "map":
            continue
        attribute = "src" if asset.kind == "script" else "href"
        assert (
            f'{attribute}="{CDN}/{asset.path}" integrity="{asset.integrity}" '
            'crossorigin="anonymous"'
        ) in html
    assert f"script-src 'self' {CDN};" in csp
    assert '<script src="/graphiql/assets/omnigate-graphiql.js">' in html


async def test_production_serves_neither_page_nor_files(
    web: Path, http: aiohttp.ClientSession
) -> None:
    install(web)
    async with serve(create_app(production_settings())) as url:
        async with http.get(f"{url}/graphql", headers=HTML) as r:
            assert r.status == 404
        async with http.get(f"{url}{PREFIX}/omnigate-graphiql.js") as r:
            assert r.status == 404


def test_an_example_cannot_close_the_page_s_script_element(web: Path) -> None:
    install(web)
    query = "# </script><script>alert(1)</script>\nquery Q { health { version } }"
    page = GraphiQLPage(GraphiQLAssets("local"), [Example("q", "Q", None, query)])
    assert page.html.count("</script>") == 1 + sum(a.kind == "script" for a in ASSETS) + 1
    assert page_config(page.html)["tabs"] == [{"query": query, "headers": None, "variables": None}]


def test_the_pins_are_the_lock_s() -> None:
    """gateway/graphiql/assets.py names the versions the CDN serves; web/graphiql's lock,
    those ``npm ci`` installs. They must agree."""
    lock = json.loads(LOCK.read_text())
    root = lock["packages"][""]["dependencies"]
    for asset in ASSETS:
        assert lock["packages"][f"node_modules/{asset.package}"]["version"] == asset.version
        assert root[asset.package] == asset.version  # exact, as a lock's root should be
    assert set(root) == {a.package for a in ASSETS}


def test_the_integrity_hashes_are_the_installed_files() -> None:
    """The CDN's copies are checked against these; the local install is the lock's."""
    real = GraphiQLAssets("local")
    if real.missing():
        pytest.skip("GraphiQL's npm files are not installed (npm ci --prefix web/graphiql)")
    for asset in ASSETS:
        if asset.kind == "map":
            continue
        data = (assets.WEB_DIR / "node_modules" / asset.package / asset.file).read_bytes()
        digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert asset.integrity == f"sha384-{digest}", asset.path
