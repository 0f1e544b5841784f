"""The GraphiQL page and its vendored assets, and the landing answer of ``/``.

The page itself is driven in headless Chromium by test_graphiql_browser.py.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import re
import tomllib
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from gateway import graphiql
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.access import Principal, load_roles
from resolvers.services import Services
from schema.context import Context
from tests.graphql_helpers import data_of, shared_schema

pytestmark = pytest.mark.indexed

ROOT = Path(__file__).parents[2]
GATEWAY = ROOT / "gateway"
VENDORED = GATEWAY / "static" / "graphiql"
ASSETS = "/graphiql/assets/"
YEAR = 365 * 24 * 3600


class Resources(HTMLParser):
    """The URLs a page makes the browser load: scripts, stylesheets, images, frames, …"""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.csp: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = values.get("content")


def resources(page: str) -> Resources:
    parser = Resources()
    parser.feed(page)
    return parser


def default_query_of(page: str) -> str:
    """The query the page opens GraphiQL on, as the browser's JSON.parse reads it."""
    match = re.search(r'<script type="application/json" id="default-query">(.*?)</script>', page)
    assert match, "the page carries its default query as a JSON data block"
    value = json.loads(match.group(1))
    assert isinstance(value, str)
    return value


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan: pages and assets need no database."""
    app = create_app(Settings(data_dir=tmp_path / "data"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def test_the_page_loads_nothing_from_another_host() -> None:
    page = graphiql.graphiql_html()
    found = resources(page)
    assert found.urls, "the page loads GraphiQL's scripts and stylesheet"
    assert [url for url in found.urls if not url.startswith(ASSETS)] == []
    assert "://" not in page
    assert "unpkg" not in page
    # The browser enforces it too: a Content-Security-Policy allows this origin only.
    assert found.csp is not None
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in found.csp.split(";") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    for sources in directives.values():
        assert all(s.startswith("'") or s in ("data:",) for s in sources), sources


def test_the_csp_allows_exactly_the_inline_bootstrap_script() -> None:
    page = graphiql.graphiql_html()
    csp = resources(page).csp
    assert csp is not None
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    assert len(scripts) == 1
    digest = hashlib.sha256(scripts[0].encode()).digest()
    assert f"'sha256-{base64.b64encode(digest).decode()}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "'unsafe-eval'" not in csp


async def test_every_asset_the_page_loads_is_served_from_the_package(
    client: httpx.AsyncClient,
) -> None:
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    urls = resources(graphiql.graphiql_html()).urls
    assert {Path(url).suffix for url in urls} == {".js", ".css"}
    for url in urls:
        packaged = (VENDORED / url.removeprefix(ASSETS)).read_bytes()
        response = await client.get(url, headers={"accept-encoding": "identity"})
        assert response.status_code == 200, url
        assert response.headers["content-type"] == types[Path(url).suffix]
        assert response.headers["cache-control"] == f"public, max-age={YEAR}, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-encoding" not in response.headers
        assert response.content == packaged
        # Compressed for clients that take it (graphiql.min.js is 3.5 MB, 0.7 MB gzipped).
        zipped = await client.get(url, headers={"accept-encoding": "gzip, br"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert int(zipped.headers["content-length"]) < len(packaged)
        assert zipped.content == packaged  # httpx decompresses
        head = await client.head(url)
        assert (head.status_code, head.content) == (200, b"")


async def test_licences_are_served_beside_the_bundles(client: httpx.AsyncClient) -> None:
    for folder in sorted(p for p in VENDORED.iterdir() if p.is_dir()):
        response = await client.get(f"{ASSETS}{folder.name}/LICENSE")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "MIT License" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "graphiql-3.8.3/nope.js",
        "README.md",
        "../graphiql.html",
        "graphiql-3.8.3/../../graphiql.html",
        "%2e%2e/graphiql.html",
        "graphiql-3.8.3/%2e%2e/%2e%2e/graphiql.py",
        "..%2f..%2fgraphiql.py",
        "",
    ],
)
async def test_nothing_else_is_served_under_the_assets(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(f"{ASSETS}{path}")
    assert response.status_code == 404


async def test_assets_only_answer_get_and_head(client: httpx.AsyncClient) -> None:
    url = resources(graphiql.graphiql_html()).urls[0]
    assert (await client.post(url)).status_code == 405


def test_vendored_files_are_the_published_ones_with_their_licences() -> None:
    """The README's checksums are those of the files, and every package keeps its LICENSE."""
    readme = (VENDORED / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\| `([^`]+)`\s*\|\s*[\d,]+\s*\|\s*([0-9a-f]{64}) \|", readme))
    files = {
        str(p.relative_to(VENDORED)): p
        for p in VENDORED.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert set(listed) == set(files)
    for name, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[name], name
    for folder in (p for p in VENDORED.iterdir() if p.is_dir()):
        package, version = folder.name.rsplit("-", 1)
        assert (folder / "LICENSE").is_file()
        assert re.search(rf"\| {re.escape(package)}\s*\| {re.escape(version)}\s*\|", readme)
    # The page loads the versions the README names.
    for url in resources(graphiql.graphiql_html()).urls:
        assert (VENDORED / url.removeprefix(ASSETS)).is_file(), url


def test_a_wheel_ships_the_vendored_assets() -> None:
    """pyproject's package data covers every file under gateway/static (the Docker image
    installs a wheel, not the work tree)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["gateway"]
    shipped = {
        Path(match)
        for pattern in patterns
        for match in glob.glob(pattern, root_dir=GATEWAY, recursive=True)
        if (GATEWAY / match).is_file()
    }
    static = {
        p.relative_to(GATEWAY)
        for p in (GATEWAY / "static").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert static - shipped == set()


def test_the_default_query_shows_a_channel_listing() -> None:
    query = default_query_of(graphiql.graphiql_html())
    assert query == graphiql.DEFAULT_QUERY
    parse(query)
    for needle in ("heroImage(channel:", 'url(slot: "hero"', "mediaManifest(", "readiness("):
        assert needle in query


async def test_the_default_query_runs_on_the_demo_catalog_without_a_key(demo: Services) -> None:
    # As GraphiQL's user without a key: anonymous, the storefront role.
    storefront = load_roles(Settings().roles_path).get("storefront")
    assert storefront is not None
    context = Context.for_request(demo, "test", Principal.anonymous(storefront))
    result = await shared_schema().execute(graphiql.DEFAULT_QUERY, context_value=context)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    products = result.data["products"]
    assert products["totalCount"] == await demo.catalog.products.count_documents(
        {"status": "published"}
    )
    nodes = [edge["node"] for edge in products["edges"]]
    assert len(nodes) == 5
    for node in nodes:
        assert node["name"]
        assert node["heroImage"]["url"].startswith("http")
        slots = node["mediaManifest"]["slots"]
        assert {"hero", "thumbnail", "card"} <= {slot["slot"] for slot in slots}
        assert all(slot["url"].startswith("http") for slot in slots)
        readiness = node["readiness"]
        assert 0 <= readiness["score"] <= 100
        assert isinstance(readiness["ready"], bool)


async def test_a_notice_opens_the_default_query_as_comments(demo: Services) -> None:
    notice = "Demo media are still uploading: 40 of 300.\n\nURLs answer 404 until then </script>"
    page = graphiql.graphiql_html(notice)
    query = default_query_of(page)
    assert query == (
        "# Demo media are still uploading: 40 of 300.\n"
        "#\n"
        "# URLs answer 404 until then </script>\n" + graphiql.DEFAULT_QUERY
    )
    # The notice cannot end the data block early, and the query still runs as it is.
    assert page.count("</script>") == graphiql.graphiql_html().count("</script>")
    await data_of(demo, query)
    # One page per notice, rendered once.
    assert graphiql.graphiql_html(notice) is page
    assert graphiql.graphiql_html() is graphiql.graphiql_html(None)
    assert graphiql.graphiql_html() is not page


async def test_root_sends_browsers_to_graphiql(client: httpx.AsyncClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = await client.get("/", headers={"accept": accept})
    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"
    page = await client.get(response.headers["location"], headers={"accept": accept})
    assert "GraphiQL" in page.text


async def test_root_tells_other_clients_where_things_are(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"accept": "application/json"}, {"accept": "*/*"}):
        response = await client.get("/", headers=headers)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        assert body["graphql"] == "/graphql"
        assert "browser" in body["graphiql"]
        assert body["health"] == "/healthz"
        assert body["ready"] == "/readyz"
        assert "docs/api.md" in body["docs"]
    assert (await client.head("/")).status_code == 200
