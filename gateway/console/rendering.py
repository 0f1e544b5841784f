"""What every console page shares: templates, the session cookie, CSRF, the signed-in guard."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.session import COOKIE, LIFETIME_S, Sealer, Session

PREFIX = "/console"
HTMX = f"{PREFIX}/static/htmx.org-2.0.11/htmx.min.js"
# Pictures come from Cloudinary (or the emulator on another port): any http(s) origin for img.
CSP = (
    "default-src 'self'; img-src 'self' http: https: data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(slots=True)
class Console:
    """One per app: the sealer (from the server secret) and the templates."""

    sealer: Sealer
    # The largest file a form may carry (an import): the gateway's CATALOG_MAX_UPLOAD_BYTES.
    max_upload_bytes: int = 10 * 1024 * 1024
    env: Environment = field(
        default_factory=lambda: Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )
    # channel -> the image slot its thumbnails are delivered through (channels.toml, via the
    # API's `channels`; the same for every key, so one copy per process).
    thumbnail_slots: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False)
        self.env.globals.update(prefix=PREFIX, htmx=HTMX)


@dataclass(frozen=True, slots=True)
class Page:
    """A signed-in request: its session, the API as its key, and the viewer."""

    request: Request
    session: Session
    api: ConsoleApi
    console: Console

    def channel(self) -> str:
        """The channel a page shows: the one asked for, else web, else the key's first."""
        asked = self.request.query_params.get("channel")
        if asked:
            return asked
        allowed = self.session.channels
        return "web" if not allowed or "web" in allowed else allowed[0]

    @property
    def csrf(self) -> str:
        return self.console.sealer.csrf(self.session.sid)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        viewer = context.get("viewer") or {}
        scopes = set(viewer.get("scopes") or [])
        return render(
            self.console,
            template,
            status=status,
            csrf=self.csrf,
            signed_in=True,
            can_write="catalog:write" in scopes,
            can_publish="catalog:publish" in scopes,
            can_audit="audit:read" in scopes,
            path=self.request.url.path,
            **context,
        )


def render(console: Console, template: str, status: int = 200, **context: Any) -> Response:
    html = console.env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=page_headers())


def page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def console_of(request: Request) -> Console:
    made: Callable[[], Console] = request.app.state.console
    return made()


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=LIFETIME_S,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def sign_in_redirect(request: Request, message: str | None = None) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"{PREFIX}/sign-in?next={quote(target, safe='')}"
    if message:
        location += f"&message={quote(message, safe='')}"
    response = RedirectResponse(location, status_code=303)
    clear_session_cookie(response, request)
    return response


Handler = Callable[[Page], Awaitable[Response]]


def signed_in(
    *, post: bool = False
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A page for signed-in people; ``post``: a form post, which must carry the CSRF token."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            console = console_of(request)
            session = console.sealer.open(request.cookies.get(COOKIE))
            if session is None:
                if post:
                    return forbidden(console, "Your session ended: sign in again.")
                return sign_in_redirect(request)
            if post:
                form = await request.form(max_part_size=console.max_upload_bytes)
                token = form.get("csrf") or request.headers.get("x-csrf-token")
                if not console.sealer.csrf_ok(
                    session.sid, token if isinstance(token, str) else None
                ):
                    return forbidden(console, "This form expired or did not come from the console.")
            page = Page(request, session, ConsoleApi(request, session.key), console)
            try:
                return await handler(page)
            except ApiError as exc:
                if exc.status == 401 or exc.code == "UNAUTHENTICATED":
                    return sign_in_redirect(request, "Your key is no longer accepted.")
                return render(
                    console,
                    "error.html",
                    status=exc.status if exc.status >= 400 else _status(exc.code),
                    signed_in=True,
                    csrf=page.csrf,
                    code=exc.code,
                    message=exc.message,
                )

        return endpoint

    return wrap


def _status(code: str) -> int:
    # A GraphQL error answered with 200 (application/json clients): the page's status says it.
    return {"BAD_USER_INPUT": 400, "FORBIDDEN": 403, "NOT_FOUND": 404}.get(code, 502)


def forbidden(console: Console, message: str) -> Response:
    return render(console, "error.html", status=403, code="FORBIDDEN", message=message)


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
