"""Each kind of expectation, passing and failing, judged on made-up responses (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.contracts.checks import Delivered, Response, image_problem, judge, judge_image
from resolvers.contracts.config import Contracts, parse_contracts
from resolvers.contracts.paths import JsonPath, PathError, shown
from tests.workflow_fixtures import PROFILES

BODY = "query Listing($first: Int!, $channel: String!, $locale: String) { products { x } }"
PAGE = "query Page($sku: ID!, $channel: String!, $locale: String) { product(sku: $sku) { x } }"
MANIFEST = {"Listing": BODY, "Page": PAGE}
CONTRACTS = """
[channels.email.operations.listing]
operation = "Listing"
variables = { first = 2 }
locales = ["fr-FR"]
products = "products.edges[*].node"
non_null = ["name", "heroImage.url"]
non_empty = ["media"]
max_bytes = 1_000
max_server_ms = 100
no_fallback = ["fr-FR"]
images = [{ path = "heroImage.url", slot = "banner" }]

[channels.email.operations.page]
operation = "Page"
for_each = "sku"
products = "product"
max_bytes = 10
"""


def contracts(text: str = CONTRACTS) -> Contracts:
    return parse_contracts(text, "contracts.toml", PROFILES.channels, MANIFEST)


def node(sku: str, **fields: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Name {sku}",
        "heroImage": {"url": f"https://img/{sku}.jpg"},
        "media": [{"url": f"https://img/{sku}.jpg"}],
        **fields,
    }


def response(
    *nodes: dict[str, Any], wire: int = 500, ms: float = 20, **extensions: Any
) -> Response:
    body: dict[str, Any] = {"data": {"products": {"edges": [{"node": n} for n in nodes]}}}
    if extensions:
        body["extensions"] = extensions
    return Response(200, body, wire, ms)


def checks(result: Response, locale: str = "fr-FR") -> list[tuple[str, str | None, str]]:
    [listing, _] = contracts().operations
    judged = judge(listing, {"first": 2, "locale": locale}, result, locale)
    return [(v.check, v.sku, v.path) for v in judged.violations]


def test_a_response_that_holds_every_expectation_has_no_violation() -> None:
    [listing, _] = contracts().operations
    result = response(node("A-1"), node("A-2"))
    judged = judge(listing, {"first": 2, "locale": "fr-FR"}, result, "fr-FR")
    assert judged.violations == []
    assert judged.products == ["A-1", "A-2"]
    assert [u.url for u in judged.images] == ["https://img/A-1.jpg", "https://img/A-2.jpg"]


def test_non_null_and_non_empty_name_the_product_and_the_path() -> None:
    result = response(node("A-1", name=None), node("A-2", heroImage=None, media=[]))
    assert checks(result) == [
        ("non_null", "A-1", "products.edges[0].node.name"),
        ("non_null", "A-2", "products.edges[1].node.heroImage.url"),
        ("non_empty", "A-2", "products.edges[1].node.media"),
    ]


def test_payload_bytes_and_server_time_over_their_maximum() -> None:
    assert checks(response(node("A-1"), wire=1_000, ms=100)) == []
    assert checks(response(node("A-1"), wire=1_001, ms=100.5)) == [
        ("max_bytes", None, ""),
        ("max_server_ms", None, ""),
    ]


def test_a_run_per_sku_charges_its_product_with_the_whole_response() -> None:
    [_, page] = contracts().operations
    result = Response(200, {"data": {"product": node("P-1")}}, 11, 1)
    [violation] = judge(page, {"sku": "P-1"}, result, None).violations
    assert (violation.check, violation.sku, violation.operation) == ("max_bytes", "P-1", "page")
    assert violation.message == "11 bytes (gzip) > max_bytes 10"


def test_a_locale_fallback_is_a_violation_of_the_product_it_is_under() -> None:
    fallback = {
        "path": ["products", "edges", 1, "node", "name"],
        "requested": "fr-FR",
        "used": "en-US",
    }
    result = response(node("A-1"), node("A-2"), localeFallbacks=[fallback])
    assert checks(result) == [("no_fallback", "A-2", "products.edges[1].node.name")]
    # Only the locales the contract names must not fall back.
    assert checks(result, locale="de-DE") == []


def test_errors_are_violations_of_the_run() -> None:
    result = Response(200, {"data": None, "errors": [{"message": "boom"}]}, 10, 1)
    [listing, _] = contracts().operations
    [violation] = judge(listing, {}, result, "fr-FR").violations
    assert (violation.check, violation.message) == ("error", "HTTP 200: boom")


def test_images_deliver_in_the_slots_format_and_size() -> None:
    found = PROFILES.channels.profiles["email"].slot("banner")
    assert found is not None
    banner = found[1]  # 600x300, fill, jpg
    assert image_problem(banner, Delivered(200, "image/jpeg", 600, 300)) is None
    assert image_problem(banner, Delivered(200, "image/png", 600, 300)) == (
        "delivered as image/png, the slot is jpg"
    )
    assert image_problem(banner, Delivered(200, "image/jpeg", 600, 400)) == (
        "delivered 600x400, the slot is 600x300 (fill)"
    )
    assert image_problem(banner, Delivered(404, "text/plain")) == "not delivered: HTTP 404"
    assert image_problem(banner, Delivered(0, error="ConnectError: refused")) == (
        "not delivered: ConnectError: refused"
    )
    zoom = PROFILES.channels.profiles["web"].slot("zoom")
    assert zoom is not None  # limit 2000x2000, any format: within the box passes
    assert image_problem(zoom[1], Delivered(200, "image/webp", 1200, 900)) is None
    assert image_problem(zoom[1], Delivered(200, "image/webp", 2400, 900)) == (
        "delivered 2400x900, larger than the slot's 2000x2000 (limit)"
    )
    [listing, _] = contracts().operations
    [use] = judge(listing, {}, response(node("A-1")), "fr-FR").images
    violation = judge_image(listing, {}, use, banner, Delivered(404))
    assert violation is not None
    assert (violation.check, violation.sku, violation.path) == (
        "image",
        "A-1",
        "products.edges[0].node.heroImage.url",
    )


def test_paths() -> None:
    path = JsonPath.parse("products.edges[*].node.media[0].url")
    data = {"products": {"edges": [{"node": {"media": []}}, {"node": {"media": [{"url": "u"}]}}]}}
    assert [(shown(p), v) for p, v in path.matches(data)] == [
        ("products.edges[0].node.media[0].url", None),
        ("products.edges[1].node.media[0].url", "u"),
    ]
    with pytest.raises(PathError, match="is not a key"):
        JsonPath.parse("products..edges")
