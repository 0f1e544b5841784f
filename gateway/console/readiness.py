"""Readiness by channel: score bands and the most-failing checks, and the product table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from gateway.console.auth import thumbnail_slot
from gateway.console.rendering import Page, signed_in

PAGE_SIZE = 25
SORTS = {"score": "READINESS", "sku": "SKU", "name": "NAME", "updated": "UPDATED_AT"}
READY = {"yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class Filters:
    channel: str
    ready: str  # "", "yes" or "no"
    search: str
    max_score: int | None
    sort: str
    direction: str
    after: str | None

    def variables(self, slot: str) -> dict[str, Any]:
        readiness: dict[str, Any] = {"channel": self.channel}
        if self.ready in READY:
            readiness["ready"] = READY[self.ready]
        if self.max_score is not None:
            readiness["maxScore"] = self.max_score
        # The API takes a readiness filter only with a condition in it.
        product_filter: dict[str, Any] = {"readiness": readiness} if len(readiness) > 1 else {}
        if self.search:
            product_filter["search"] = self.search
        return {
            "channel": self.channel,
            "slot": slot,
            "first": PAGE_SIZE,
            "after": self.after,
            "filter": product_filter or None,
            "sort": {
                "field": SORTS[self.sort],
                "direction": "DESC" if self.direction == "desc" else "ASC",
                "channel": self.channel,
            },
        }


def filters_of(params: Any, default_channel: str) -> Filters:
    def text(name: str) -> str:
        return str(params.get(name) or "").strip()

    max_score = text("max_score")
    return Filters(
        channel=text("channel") or default_channel,
        ready=text("ready") if text("ready") in READY else "",
        search=text("q")[:200],
        max_score=int(max_score) if max_score.isdigit() and int(max_score) <= 100 else None,
        sort=text("sort") if text("sort") in SORTS else "score",
        direction="desc" if text("dir") == "desc" else "asc",
        after=text("after") or None,
    )


def chart(bands: list[dict[str, Any]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Bar lengths in percent of the longest bar, for the server-drawn SVG charts."""
    top_band = max((b["count"] for b in bands), default=0) or 1
    top_check = max((c["count"] for c in checks), default=0) or 1
    return {
        "bands": [{**b, "pct": round(100 * b["count"] / top_band, 1)} for b in bands],
        "checks": [{**c, "pct": round(100 * c["count"] / top_check, 1)} for c in checks],
    }


@signed_in()
async def readiness_page(page: Page) -> Response:
    params = page.request.query_params
    filters = filters_of(params, page.channel())
    slot = await thumbnail_slot(page, filters.channel)
    result = await page.api.run("ConsoleReadiness", filters.variables(slot))
    data = result.data
    summary = data["catalogReadiness"]
    rows = []
    for edge in data["products"]["edges"]:
        node = edge["node"]
        checks = node["readiness"].get("checks") or []
        rows.append({**node, "failing": [c for c in checks if not c["passed"]]})
    return page.render(
        "readiness.html",
        viewer=data["viewer"],
        channels=[c["name"] for c in data["channels"]],
        filters=filters,
        summary=summary,
        chart=chart(summary["bands"], summary["failingChecks"]),
        rows=rows,
        total=data["products"]["totalCount"],
        page_info=data["products"]["pageInfo"],
        errors=result.errors,
    )
