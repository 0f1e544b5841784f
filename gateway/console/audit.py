"""The catalog audit's sections with examples; duplicate media as pictures side by side."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response

from gateway.console.auth import thumbnail_slot
from gateway.console.rendering import Page, signed_in

EXAMPLES = 5


async def _pictures(page: Page, groups: list[dict[str, Any]], channel: str) -> dict[str, str]:
    """publicId -> a thumbnail URL, through the products that use the assets (the API
    delivers media per product and channel)."""
    skus = sorted({a["sku"] for g in groups for a in g["assets"] if a.get("sku")})
    slot = await thumbnail_slot(page, channel)
    results = await asyncio.gather(
        *(
            page.api.run("ConsoleProductMedia", {"sku": s, "channel": channel, "slot": slot})
            for s in skus
        )
    )
    urls: dict[str, str] = {}
    for result in results:
        product = result.data.get("product") or {}
        for media in product.get("media") or []:
            urls[media["publicId"]] = media["url"]
    return urls


@signed_in()
async def audit_page(page: Page) -> Response:
    channel = page.channel()
    result = await page.api.run("ConsoleAudit", {"limit": EXAMPLES})
    audit = result.data.get("catalogAudit")
    pictures = await _pictures(page, audit["duplicateMedia"]["examples"], channel) if audit else {}
    return page.render(
        "audit.html",
        viewer=result.data["viewer"],
        audit=audit,
        pictures=pictures,
        errors=result.errors,
    )
