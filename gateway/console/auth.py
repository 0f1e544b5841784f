"""Sign-in with an API key (checked by asking the API who it is) and sign-out."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.rendering import (
    PREFIX,
    Console,
    Page,
    clear_session_cookie,
    console_of,
    forbidden,
    form_text,
    render,
    set_session_cookie,
    signed_in,
)
from gateway.console.session import PRE_COOKIE


def _safe_next(value: str | None) -> str:
    # Only a console path: an open redirect would make the sign-in page a phishing tool.
    if value and value.startswith(PREFIX + "/") and not value.startswith("//"):
        return value
    return f"{PREFIX}/readiness"


def _sign_in_page(
    console: Console, request: Request, *, message: str | None, status: int = 200
) -> Response:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
    response = render(
        console,
        "sign_in.html",
        status=status,
        csrf=console.sealer.csrf("pre:" + pre),
        next=_safe_next(request.query_params.get("next")),
        message=message,
        signed_in=False,
    )
    response.set_cookie(
        PRE_COOKIE,
        pre,
        max_age=3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(console_of(request), request, message=request.query_params.get("message"))


async def sign_in(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    pre = request.cookies.get(PRE_COOKIE)
    token = form_text(form, "csrf")
    if not pre or not console.sealer.csrf_ok("pre:" + pre, token):
        return forbidden(console, "This form expired: open the sign-in page again.")
    key = form_text(form, "key")
    if not key:
        return _sign_in_page(console, request, message="Enter an API key.", status=400)
    try:
        result = await ConsoleApi(request, key).run("ConsoleViewer")
    except ApiError as exc:
        message = (
            "That key was not accepted (unknown, revoked or expired)."
            if exc.status == 401
            else f"The gateway refused: {exc.message}"
        )
        return _sign_in_page(console, request, message=message, status=401)
    remember_slots(console, result.data["channels"])
    response = RedirectResponse(_safe_next(form_text(form, "next")), status_code=303)
    channels = tuple(result.data["viewer"]["channels"] or ())
    session = console.sealer.new_session(key, channels=channels)
    set_session_cookie(response, request, console.sealer.seal(session))
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@signed_in(post=True)
async def sign_out(page: Page) -> Response:
    response = RedirectResponse(f"{PREFIX}/sign-in?message=Signed+out.", status_code=303)
    clear_session_cookie(response, page.request)
    return response


def remember_slots(console: Console, channels: list[dict[str, Any]]) -> None:
    """The image slot each channel's thumbnails go through: ``thumbnail`` where the channel
    has one, else its narrowest image slot."""
    for channel in channels:
        slots = [s for s in channel.get("slots") or [] if isinstance(s, dict)]
        images = [s for s in slots if s.get("resourceType") == "IMAGE"] or slots
        if not images:
            continue
        named = [s for s in images if s.get("name") == "thumbnail"]
        chosen = named[0] if named else min(images, key=lambda s: int(str(s.get("width") or 0)))
        console.thumbnail_slots[str(channel["name"])] = str(chosen["name"])


async def thumbnail_slot(page: Page, channel: str) -> str:
    slots = page.console.thumbnail_slots
    if channel not in slots:
        remember_slots(page.console, (await page.api.run("ConsoleViewer")).data["channels"])
    return slots.get(channel, "thumbnail")


async def home(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/readiness", status_code=303)
