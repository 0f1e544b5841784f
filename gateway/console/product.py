"""A product: its media per channel as pictures, its checks, history and workflow state; and
the workflow transitions (submit, approve, reject, publish) the console's forms post."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response

from gateway.console.rendering import PREFIX, Page, form_text, signed_in

ACTIONS = {
    "submit": "ConsoleSubmit",
    "approve": "ConsoleApprove",
    "reject": "ConsoleReject",
    "publish": "ConsolePublish",
}


@signed_in()
async def product_page(page: Page) -> Response:
    sku = page.request.path_params["sku"]
    channel = page.channel()
    result = await page.api.run("ConsoleProduct", {"sku": sku, "channel": channel})
    data = result.data
    product = data["product"]
    if product is None:
        return page.render(
            "error.html",
            status=404,
            viewer=data["viewer"],
            code="NOT_FOUND",
            message=f"No product {sku!r} for this key.",
        )
    history = [edge["node"] for edge in ((product.get("history") or {}).get("edges") or [])]
    return page.render(
        "product.html",
        viewer=data["viewer"],
        channels=[c["name"] for c in data["channels"]],
        channel=channel,
        product=product,
        history=history,
        errors=result.errors,
        outcome=page.request.query_params.get("outcome"),
    )


def _at(value: str) -> str | None:
    """A ``datetime-local`` value (the browser's, without an offset) as UTC, ISO 8601."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


@signed_in(post=True)
async def transition(page: Page) -> Response:
    sku = page.request.path_params["sku"]
    form = await page.request.form()
    action = form_text(form, "action")
    channel = form_text(form, "channel") or "web"
    back = form_text(form, "back")
    if action not in ACTIONS:
        return page.render("error.html", status=400, code="BAD_REQUEST", message="Unknown action.")
    variables: dict[str, Any] = {"skus": [sku], "channels": [channel]}
    if action == "publish":
        try:
            variables["at"] = _at(form_text(form, "at"))
        except ValueError:
            return page.render(
                "error.html",
                status=400,
                code="BAD_USER_INPUT",
                message="Give the time as YYYY-MM-DDTHH:MM.",
            )
    else:
        variables["note"] = form_text(form, "note") or None
    if action == "reject" and not variables["note"]:
        return page.render(
            "error.html", status=400, code="BAD_USER_INPUT", message="A rejection needs a note."
        )
    result = await page.api.run(ACTIONS[action], variables)
    payload = next(iter(result.data.values()))
    if payload is None:
        # A field error (FORBIDDEN for a key without catalog:publish): the API said no.
        error = result.errors[0] if result.errors else {}
        code = str((error.get("extensions") or {}).get("code", "FORBIDDEN"))
        return page.render(
            "error.html",
            status=403 if code == "FORBIDDEN" else 400,
            code=code,
            message=str(error.get("message", "refused")),
        )
    failures = [e for r in payload["results"] for e in r["errors"]]
    if failures:
        return page.render(
            "refused.html",
            status=409,
            sku=sku,
            channel=channel,
            action=action,
            failures=failures,
            back=back or f"{PREFIX}/products/{quote(sku)}?channel={quote(channel)}",
        )
    states = [
        p["state"] for r in payload["results"] for p in r["publishing"] if p["channel"] == channel
    ]
    outcome = f"{action}: {sku} is {states[0] if states else 'moved'} on {channel}"
    target = (
        back
        if back.startswith(PREFIX + "/")
        else f"{PREFIX}/products/{quote(sku)}?channel={quote(channel)}"
    )
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}outcome={quote(outcome)}", status_code=303)
