"""What a browser gets: the GraphiQL page, opened on a query that shows what the gateway is for,
GraphiQL's own assets (vendored under static/graphiql, so the page works offline), and ``/``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from gateway.quality_values import quality_list

DEFAULT_QUERY = """\
# Catalog Gateway: a channel's product listing in one call.
# Products come from the catalog (MongoDB), their pictures from
# Cloudinary as URLs cut for each slot of the channel, and
# readiness says whether each may go live there, and if not, why.
# Run it: Ctrl-Enter. Then try $channel "mobile", or "email" with
# slot "banner", or "marketplace" with slot "main" (every channel's
# slots: { channels { name slots { name } } }); $locale "fr-CA"
# (falls back to fr-FR, then en-US); the least ready first:
# sort: { field: READINESS, channel: "web" }; or a filter:
# filter: { readiness: { channel: "web", ready: false } }
# Without a key you are anonymous (the storefront role: published
# products, scores without their checks). To send a key, open the
# Headers tab below: {"Authorization": "Bearer cgw_…"} (the demo
# saves an admin key in .catalog-data/demo-admin-key); then add
# missingRoles and checks { id passed severity message hint } to
# readiness.
query ChannelListing(
  $channel: String! = "web"
  $locale: String = "de-AT"
) {
  products(first: 5, sort: { field: NAME, locale: "en-US" }) {
    totalCount
    edges {
      node {
        sku
        name(locale: $locale)
        heroImage(channel: $channel) {
          url(slot: "hero")
          alt(locale: $locale) { text }
        }
        readiness(channel: $channel) {
          score
          ready
        }
        mediaManifest(channel: $channel, locale: $locale) {
          complete
          slots { slot url isPlaceholder isFallback reasons }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# Everything the page loads is on this origin; the browser refuses anything else. The one inline
# script is allowed by its hash; styles may be inline (GraphiQL's components inject <style>).
CSP = (
    "default-src 'self'; script-src 'self' {script_hashes}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# GraphQL allows no control characters but tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def graphiql_html(notice: str | None = None) -> str:
    """The GraphiQL page; a ``notice`` opens its default query as comment lines."""
    return _render(notice or None)


def query_with_notice(notice: str | None) -> str:
    """``DEFAULT_QUERY`` under the notice's lines as ``#`` comments (blank lines: ``#``)."""
    if not notice:
        return DEFAULT_QUERY
    lines = _CONTROL.sub(" ", notice).splitlines()
    return "".join(f"# {line}".rstrip() + "\n" for line in lines) + DEFAULT_QUERY


@cache
def _template() -> str:
    return files("gateway").joinpath("static/graphiql.html").read_text(encoding="utf-8")


@lru_cache(maxsize=32)
def _render(notice: str | None) -> str:
    # A JSON data block, which the browser never executes: "<" is escaped so that no text of
    # the query can close it ("</script>") or open a comment ("<!--").
    literal = json.dumps(query_with_notice(notice)).replace("<", "\\u003c")
    page = _template().replace("__DEFAULT_QUERY__", literal)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    return page.replace("__CSP__", CSP.format(script_hashes=hashes))


# GraphiQL's assets: /graphiql/assets/<package>-<version>/<file>. The version is in the URL, so
# a response never changes and browsers may keep it for a year without asking again.
ASSET_PREFIX = "/graphiql/assets/"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
_ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    content_type: str
    body: bytes
    gzipped: bytes


@cache
def asset_names() -> dict[str, str]:
    """Every servable file, as ``<package>-<version>/<file>``, with its content type."""
    root = files("gateway").joinpath("static/graphiql")
    names = {}
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            suffix = "." + item.name.rsplit(".", 1)[-1] if "." in item.name else item.name
            if item.is_file() and suffix in _ASSET_TYPES:
                names[f"{folder.name}/{item.name}"] = _ASSET_TYPES[suffix]
    return names


_loaded: dict[str, Asset] = {}


def _load(name: str) -> Asset:
    body = files("gateway").joinpath("static/graphiql", *name.split("/")).read_bytes()
    return Asset(asset_names()[name], body, gzip.compress(body, compresslevel=9, mtime=0))


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (``gzip`` or ``*`` with q above 0)."""
    accepted = dict(quality_list(accept_encoding))
    return accepted.get("gzip", accepted.get("*", 0.0)) > 0


async def graphiql_asset(request: Request) -> Response:
    """One vendored file, gzipped when the client takes it; anything else is a 404."""
    name = request.path_params["path"]
    if name not in asset_names():
        return Response("Not Found", status_code=404, media_type="text/plain")
    asset = _loaded.get(name)
    if asset is None:
        # Read and compressed once per process, off the event loop (the bundle is 3.5 MB).
        asset = _loaded[name] = await anyio.to_thread.run_sync(_load, name)
    headers = {
        "content-type": asset.content_type,
        "cache-control": ASSET_CACHE_CONTROL,
        "x-content-type-options": "nosniff",
        "vary": "Accept-Encoding",
    }
    body = asset.body
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        body = asset.gzipped
        headers["content-encoding"] = "gzip"
    headers["content-length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, headers=headers)


async def index(request: Request) -> Response:
    """``/``: browsers go to GraphiQL; other clients learn where the API and its docs are."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/graphql", status_code=307)
    return JSONResponse(
        {
            "service": "Catalog Gateway: an Apollo Federation 2 subgraph over the product catalog",
            "graphql": "/graphql",
            "graphiql": "/graphql, opened in a browser",
            "health": "/healthz",
            "ready": "/readyz",
            "docs": "docs/api.md in the repository (README.md: running it; docs/: the rest)",
        }
    )
