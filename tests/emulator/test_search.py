"""The emulator's Search API, as far as the gateway's reconciliation uses it: assets by last
update, oldest first, paged with next_cursor, driven through the SDK's own Search builder."""

from __future__ import annotations

from typing import Any

import cloudinary.api
import cloudinary.search
import pytest
from cloudinary.exceptions import BadRequest

from tests.emulator.helpers import upload_png


def updated_since(sdk: dict[str, Any], since: str | None, cursor: str | None = None) -> Any:
    query = cloudinary.search.Search().sort_by("last_updated", "asc").max_results(2)
    if since is not None:
        query.expression(f'last_updated>="{since}"')
    if cursor is not None:
        query.next_cursor(cursor)
    return query.with_field("context").execute(**sdk)


def test_assets_come_in_the_order_they_last_changed_page_by_page(sdk: dict[str, Any]) -> None:
    for name in ("s-1", "s-2", "s-3"):
        upload_png(sdk, name)
    cloudinary.api.update("s-1", context={"alt": "changed"}, **sdk)

    first = updated_since(sdk, None)
    assert [r["public_id"] for r in first["resources"]] == ["s-2", "s-3"]
    assert first["total_count"] == 3
    second = updated_since(sdk, None, first["next_cursor"])
    assert [r["public_id"] for r in second["resources"]] == ["s-1"]
    assert second["resources"][0]["context"] == {"custom": {"alt": "changed"}}
    assert "next_cursor" not in second

    # From the last change's second on: that asset (and any changed in the same second).
    since = second["resources"][0]["last_updated"]["updated_at"]
    later = updated_since(sdk, since)
    listed = [r["public_id"] for r in later["resources"]]
    if "next_cursor" in later:
        listed += [
            r["public_id"] for r in updated_since(sdk, since, later["next_cursor"])["resources"]
        ]
    assert listed[-1] == "s-1"


def test_an_expression_it_cannot_evaluate_is_refused(sdk: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match="Unsupported search expression"):
        cloudinary.search.Search().expression("cat AND tags:kitten").execute(**sdk)
