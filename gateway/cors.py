"""CORS: which browser origins may call the API, from settings (none unless configured).

Starlette's ``CORSMiddleware`` does the protocol; this module chooses its policy and adjusts
two answers: a successful preflight is ``204 No Content`` (it has nothing to say beyond its
headers) and ``Vary`` names each header once, since the GraphQL handler already varies on
``Origin`` for caches.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Send

from gateway.settings import Settings

# What `make run` (the demo) allows when no origin is configured: a front-end's dev server on
# this machine, whatever its port.
DEMO_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"
# Response headers a browser app may read besides the CORS-safelisted ones.
EXPOSE_HEADERS = (
    "ETag",
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    allow_origins: tuple[str, ...]
    allow_origin_regex: str | None
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    allow_credentials: bool
    max_age: int

    @property
    def enabled(self) -> bool:
        return bool(self.allow_origins) or self.allow_origin_regex is not None


def cors_policy(settings: Settings) -> CorsPolicy:
    regex = settings.cors_allow_origin_regex
    if settings.demo and not settings.cors_allow_origins and regex is None:
        regex = DEMO_ORIGIN_REGEX
    return CorsPolicy(
        allow_origins=tuple(settings.cors_allow_origins),
        allow_origin_regex=regex,
        allow_methods=tuple(m.upper() for m in settings.cors_allow_methods),
        allow_headers=tuple(settings.cors_allow_headers),
        allow_credentials=settings.cors_allow_credentials,
        max_age=settings.cors_max_age_s,
    )


def merge_vary(headers: MutableHeaders) -> None:
    """One ``Vary`` header naming each field once (case-insensitively), in first-seen order."""
    seen: dict[str, str] = {}
    for value in headers.getlist("vary"):
        for name in value.split(","):
            if name.strip():
                seen.setdefault(name.strip().lower(), name.strip())
    if seen:
        headers["Vary"] = ", ".join(seen.values())


class CatalogCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 200:
            return response  # 400 "Disallowed CORS origin, …": the browser reports it
        headers = MutableHeaders(raw=list(response.raw_headers))
        del headers["content-length"]
        del headers["content-type"]
        return Response(status_code=204, headers=dict(headers))

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        async def deduplicated(message: Message) -> None:
            if message["type"] == "http.response.start":
                merge_vary(MutableHeaders(scope=message))
            await send(message)

        await super().send(message, deduplicated, request_headers)


def cors_middleware(policy: CorsPolicy) -> Middleware:
    return Middleware(
        CatalogCORSMiddleware,
        allow_origins=policy.allow_origins,
        allow_origin_regex=policy.allow_origin_regex,
        allow_methods=policy.allow_methods,
        allow_headers=policy.allow_headers,
        allow_credentials=policy.allow_credentials,
        expose_headers=EXPOSE_HEADERS,
        max_age=policy.max_age,
    )
