"""The emulator's Admin API, driven through the official SDK exactly as the gateway drives it."""

from __future__ import annotations

from typing import Any

import cloudinary.api
import httpx
import pytest
from cloudinary.exceptions import AuthorizationRequired, BadRequest, NotFound

from cloudinary_emulator import EmulatorServer
from tests.emulator.helpers import upload_png, url_for


def test_admin_api_requires_the_right_credentials(sdk: dict[str, Any]) -> None:
    upload_png(sdk, "secret-shoe")
    with pytest.raises(AuthorizationRequired):
        cloudinary.api.resource("secret-shoe", **{**sdk, "api_secret": "wrong"})
    with pytest.raises(AuthorizationRequired, match="Unknown API key"):
        cloudinary.api.resource("secret-shoe", **{**sdk, "api_key": "000"})


def test_resources_by_ids_returns_known_ids_with_rate_limit_headers(
    sdk: dict[str, Any],
) -> None:
    for name in ("id-1", "id-2", "id-3"):
        upload_png(sdk, name, tags=[name], context={"alt": name})

    result = cloudinary.api.resources_by_ids(
        ["id-1", "id-3", "unknown"], tags=True, context=True, **sdk
    )
    assert [r["public_id"] for r in result["resources"]] == ["id-1", "id-3"]
    assert result["resources"][0]["tags"] == ["id-1"]
    assert result["resources"][0]["context"] == {"custom": {"alt": "id-1"}}
    assert result.rate_limit_allowed == 500
    assert result.rate_limit_remaining == 499
    assert result.rate_limit_reset_at is not None

    plain = cloudinary.api.resources_by_ids(["id-2"], **sdk)
    assert "tags" not in plain["resources"][0]
    assert plain.rate_limit_remaining == 498


def test_resources_by_ids_rejects_more_than_100(sdk: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match="at most 100"):
        cloudinary.api.resources_by_ids([f"id-{n}" for n in range(101)], **sdk)
    assert cloudinary.api.resources_by_ids([f"id-{n}" for n in range(100)], **sdk) == {
        "resources": []
    }


def test_resources_by_tag_paginates_newest_first(sdk: dict[str, Any]) -> None:
    names = [f"paged-{n}" for n in range(5)]
    for name in names:
        upload_png(sdk, name, tags=["paged"])
    upload_png(sdk, "untagged")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        options = {"max_results": 2, **({"next_cursor": cursor} if cursor else {})}
        page = cloudinary.api.resources_by_tag("paged", **sdk, **options)
        pages += 1
        seen.extend(r["public_id"] for r in page["resources"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(names))

    ascending = cloudinary.api.resources_by_tag("paged", direction="asc", max_results=10, **sdk)
    assert [r["public_id"] for r in ascending["resources"]] == names
    assert "next_cursor" not in ascending


def test_update_replaces_tags_and_context_and_merges_metadata(sdk: dict[str, Any]) -> None:
    upload_png(sdk, "editable", tags=["old"], context={"a": "1"}, metadata={"sku": "S1"})
    updated = cloudinary.api.update(
        "editable",
        tags=["new", "shiny"],
        context={"alt_en-US": "New"},
        metadata={"color": "red"},
        **sdk,
    )
    assert updated["tags"] == ["new", "shiny"]
    assert updated["context"] == {"custom": {"alt_en-US": "New"}}
    assert updated["metadata"] == {"sku": "S1", "color": "red"}
    assert cloudinary.api.resource("editable", **sdk)["tags"] == ["new", "shiny"]
    with pytest.raises(NotFound):
        cloudinary.api.update("no-such-asset", tags=["x"], **sdk)


def test_delete_resources(sdk: dict[str, Any], http: httpx.Client) -> None:
    upload_png(sdk, "doomed")
    url = url_for(sdk, "doomed", format="png")
    assert http.get(url).status_code == 200
    result = cloudinary.api.delete_resources(["doomed", "never-was"], **sdk)
    assert result["deleted"] == {"doomed": "deleted", "never-was": "not_found"}
    with pytest.raises(NotFound):
        cloudinary.api.resource("doomed", **sdk)
    missing = http.get(url)
    assert missing.status_code == 404
    assert "Resource not found" in missing.headers["x-cld-error"]


def test_admin_call_counter_is_exact(server: EmulatorServer, sdk: dict[str, Any]) -> None:
    upload_png(sdk, "counted", tags=["c"])
    http_url = url_for(sdk, "counted", format="png")
    httpx.get(http_url, trust_env=False)
    cloudinary.api.resource("counted", **sdk)
    cloudinary.api.resources_by_ids(["counted"], **sdk)
    cloudinary.api.resources_by_ids(["counted"], **sdk)
    cloudinary.api.resources_by_tag("c", **sdk)
    cloudinary.api.update("counted", tags=["d"], **sdk)
    with pytest.raises(AuthorizationRequired):
        cloudinary.api.resource("counted", **{**sdk, "api_secret": "bad"})
    cloudinary.api.delete_resources(["counted"], **sdk)

    stats = server.emulator.stats
    assert stats.admin_calls == 7
    assert stats.admin_calls_by_operation == {
        "resource": 2,
        "resources_by_ids": 2,
        "resources_by_tag": 1,
        "update": 1,
        "delete_resources": 1,
    }
    assert stats.upload_calls == 1
    assert stats.delivery_requests == 1
    over_http = httpx.get(
        f"{server.url}/_emulator/stats", headers=server.control_headers(), trust_env=False
    ).json()
    assert over_http["admin_calls"] == 7
    assert over_http["assets"] == 0
