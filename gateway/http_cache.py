"""HTTP caching of GraphQL answers: who may keep them, for how long, and when they are unchanged.

A GET query answered without errors or warnings to a principal that cannot see drafts (the
anonymous role, storefront keys) reads only published data: shared caches and CDNs may keep it
(``Cache-Control: public, max-age, stale-while-revalidate``) and revalidate it with a strong
``ETag``, a hash of the body, answered ``304`` on a matching ``If-None-Match``. Everything else
(drafts, previews, errors, mutations, POST) is ``private, no-store``. ``Vary`` names every
request header that changes the answer, so a cache never hands one principal's or channel's
answer to another.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from gateway.compression import CODINGS, compressed_body, encoding_for
from gateway.read_view import CHANNEL_HEADER, PREVIEW_HEADER
from gateway.settings import Settings
from resolvers.access import Principal

NO_STORE = "private, no-store"
# Request headers the answer depends on: the key (principal, channels), the media type, the
# encoding, CORS (Access-Control-Allow-Origin echoes the origin) and the catalog view.
VARY = ", ".join(
    (
        "Accept",
        "Accept-Encoding",
        "Authorization",
        "Origin",
        CHANNEL_HEADER.title(),
        PREVIEW_HEADER.title(),
    )
)


@dataclass(frozen=True, slots=True)
class HttpCachePolicy:
    max_age_s: int = 60
    stale_while_revalidate_s: int = 300
    compress_min_bytes: int = 1024
    compress_level: int = 6

    @property
    def public_cache_control(self) -> str:
        if self.max_age_s == 0:
            # Stored, but asked again each time: the ETag makes that a 304.
            return "public, no-cache"
        return (
            f"public, max-age={self.max_age_s}, "
            f"stale-while-revalidate={self.stale_while_revalidate_s}"
        )


def shared_cacheable(principal: Principal, *, preview: bool) -> bool:
    """Whether what this principal reads is the published catalog that anyone may see."""
    return not principal.sees_drafts and not preview


def entity_tag(body: bytes, encoding: str | None) -> str:
    """A strong validator of one representation: the identity body's hash, and the content
    coding, since a gzipped body is another representation (RFC 9110, 8.8.3.3)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:16]).rstrip(b"=").decode()
    return f'"{digest}-{encoding}"' if encoding else f'"{digest}"'


def _opaque(tag: str) -> str:
    """The tag without ``W/`` (If-None-Match compares weakly) and without a coding suffix."""
    tag = tag.strip().removeprefix("W/").strip('"')
    for coding in CODINGS:
        tag = tag.removesuffix(f"-{coding}")
    return tag


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names the body ``tag`` stands for, in whatever coding: a cache
    holding the identity body may reuse it as the gzipped one's equal, and vice versa."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(tag)
    return any(_opaque(candidate) == wanted for candidate in if_none_match.split(","))


async def finish(
    request: Request, response: Response, policy: HttpCachePolicy, *, public: bool
) -> Response:
    """``response`` with its caching headers, compressed when the client takes it and it is
    large enough; a bodiless 304 when the client's copy is current."""
    body = bytes(response.body)
    encoding = None
    if policy.compress_level > 0 and len(body) >= policy.compress_min_bytes:
        encoding = encoding_for(request.headers.get("accept-encoding", ""))
    headers = response.headers
    headers["Vary"] = VARY
    if public and response.status_code == 200 and request.method == "GET":
        tag = entity_tag(body, encoding)
        cache_control = policy.public_cache_control
        if not_modified(request.headers.get("if-none-match"), tag):
            return Response(
                status_code=304,
                headers={"ETag": tag, "Cache-Control": cache_control, "Vary": VARY},
            )
        headers["ETag"] = tag
        headers["Cache-Control"] = cache_control
    else:
        headers["Cache-Control"] = NO_STORE
    if encoding is not None:
        response.body = await compressed_body(body, encoding, policy.compress_level)
        headers["Content-Encoding"] = encoding
        headers["Content-Length"] = str(len(response.body))
    return response


def http_cache_policy(settings: Settings) -> HttpCachePolicy:
    return HttpCachePolicy(
        max_age_s=settings.http_cache_max_age_s,
        stale_while_revalidate_s=settings.http_cache_stale_while_revalidate_s,
        compress_min_bytes=settings.compress_min_bytes,
        compress_level=settings.compress_level,
    )
