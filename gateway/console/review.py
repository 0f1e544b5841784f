"""The review queue for leads: products in review (or approved, awaiting publication) on a
channel, each with what changed since its published revision and its failing checks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import Response

from gateway.console.auth import thumbnail_slot
from gateway.console.rendering import Page, signed_in

# The products waiting on the channel, filtered by the API (one call), and the first
# MAX_ITEMS of them detailed (241 cost points each).
MAX_ITEMS = 10
WAITING = ("IN_REVIEW", "APPROVED", "SCHEDULE_FAILED")


def diff(history: list[dict[str, Any]], since: int | None) -> list[dict[str, Any]]:
    """Each field changed after revision ``since``: its value then and now (history is newest
    first, so the last ``before`` seen is the published one)."""
    fields: dict[tuple[str, ...], dict[str, Any]] = {}
    for event in history:
        if since is not None and event["revision"] <= since:
            continue
        for change in event["changes"]:
            path = tuple(change["path"])
            entry = fields.setdefault(path, {"path": ".".join(path), "after": change["after"]})
            entry["before"] = change["before"]
    return [
        {**entry, "before": _shown(entry.get("before")), "after": _shown(entry["after"])}
        for entry in fields.values()
    ]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1)


def _media_changed(changes: list[dict[str, Any]]) -> bool:
    return any(c["path"] == "media" or c["path"].startswith("media.") for c in changes)


async def _media_side_by_side(page: Page, channel: str, items: list[dict[str, Any]]) -> None:
    """The pictures the channel shows now (its publication) and those in review."""
    slot = await thumbnail_slot(page, channel)

    async def media(sku: str, published: bool) -> list[dict[str, Any]]:
        variables = {"sku": sku, "channel": channel, "slot": slot}
        view = channel if published else None
        result = await page.api.run("ConsoleProductMedia", variables, channel_view=view)
        product = result.data.get("product") or {}
        return list(product.get("media") or [])

    found = await asyncio.gather(
        *(media(item["sku"], published) for item in items for published in (True, False))
    )
    for index, item in enumerate(items):
        item["media_published"], item["media_in_review"] = found[2 * index : 2 * index + 2]


@signed_in()
async def review_page(page: Page) -> Response:
    channel = page.channel()
    result = await page.api.run(
        "ConsoleReviewQueue", {"channel": channel, "first": MAX_ITEMS, "states": list(WAITING)}
    )
    data = result.data
    queue = [
        {**node, "pub": node["publishing"][0]}
        for node in (edge["node"] for edge in data["products"]["edges"])
    ]
    details = await asyncio.gather(
        *(
            page.api.run("ConsoleReviewItem", {"sku": item["sku"], "channel": channel})
            for item in queue
        )
    )
    for item, detail in zip(queue, details, strict=True):
        product = detail.data["product"] or {}
        history = [e["node"] for e in ((product.get("history") or {}).get("edges") or [])]
        item["diff"] = diff(history, item["pub"]["publishedRevision"])
        checks = (product.get("readiness") or {}).get("checks") or []
        item["failing"] = [c for c in checks if not c["passed"]]
        states = product.get("publishing") or [{}]
        item["pub"] = {**item["pub"], "reasons": states[0].get("reasons") or []}
    await _media_side_by_side(page, channel, [i for i in queue if _media_changed(i["diff"])])
    return page.render(
        "review.html",
        viewer=data.get("viewer"),
        channels=[
            name
            for name in sorted(page.console.thumbnail_slots)
            if not page.session.channels or name in page.session.channels
        ]
        or [channel],
        channel=channel,
        queue=queue,
        outcome=page.request.query_params.get("outcome"),
    )
