"""Channel and slot arguments: one rule for names (case-insensitive, answered canonically, like
locales), and an unknown channel costs only the field that named it when that field may be null."""

from typing import Any

import pytest

from resolvers.services import Services
from tests.graphql_helpers import data_of, execute

PER_CHANNEL = """query($sku: ID!, $web: String!, $mobile: String!, $marketplace: String!,
                     $card: String!, $locale: String!) {
  product(sku: $sku) {
    heroImage(channel: $web) { publicId url(slot: $card) }
    media(channel: $mobile, first: 2) { publicId url(slot: $card) }
    mediaManifest(channel: $marketplace, locale: $locale) { channel locale complete }
    readiness(channel: $marketplace) { channel score ready }
    variants { swatch(channel: $web) { publicId } }
  }
  catalogReadiness(channel: $marketplace) { channel products ready }
  products(first: 5, filter: { readiness: { channel: $web, ready: true } },
           sort: { field: READINESS, channel: $mobile, direction: DESC }) {
    totalCount edges { node { sku } }
  }
}"""


async def a_sku_with_variants(services: Services) -> str:
    data = await data_of(
        services, "{ products(first: 50) { edges { node { sku variants { sku } } } } }"
    )
    sku: str = next(e["node"]["sku"] for e in data["products"]["edges"] if e["node"]["variants"])
    return sku


async def test_channel_and_slot_names_are_case_insensitive_and_answered_canonically(
    demo: Services,
) -> None:
    sku = await a_sku_with_variants(demo)
    canonical = {"web": "web", "mobile": "mobile", "marketplace": "marketplace", "card": "card"}
    shouted = {"web": "WEB", "mobile": "Mobile", "marketplace": "MarketPlace", "card": "Card"}
    expected = await data_of(demo, PER_CHANNEL, {"sku": sku, "locale": "de-DE", **canonical})
    assert expected["product"]["mediaManifest"]["channel"] == "marketplace"
    assert expected["products"]["edges"]
    spelled = await data_of(demo, PER_CHANNEL, {"sku": sku, "locale": "DE-de", **shouted})
    assert spelled == expected


async def test_an_unknown_channel_still_lists_the_channels(demo: Services) -> None:
    result = await execute(demo, '{ catalogReadiness(channel: "webb") { channel } }')
    assert result.errors is not None
    error = result.errors[0].formatted
    assert error["message"] == "unknown channel 'webb'; channels: web, mobile, email, marketplace"
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argumentName": "channel",
        "channels": ["web", "mobile", "email", "marketplace"],
    }


@pytest.mark.parametrize("field", ["heroImage", "variants { swatch"])
async def test_an_unknown_channel_nulls_only_the_field_that_named_it(
    demo: Services, field: str
) -> None:
    """heroImage and swatch may be null: the rest of the listing keeps its data."""
    closing = " }" if "{" in field else ""
    query = (
        '{ products(first: 3, filter: { category: "footwear" }) { totalCount edges { node { '
        f'sku name(locale: "de-DE") '
        f'{field}(channel: "nope") {{ publicId }}{closing} '
        f'good: heroImage(channel: "web") {{ publicId }} }} }} }} }}'
    )
    result = await execute(demo, query)
    assert result.data is not None
    edges: list[dict[str, Any]] = result.data["products"]["edges"]
    assert result.data["products"]["totalCount"] > 3
    assert len(edges) == 3
    assert all(e["node"]["sku"] and e["node"]["name"] and e["node"]["good"] for e in edges)
    assert result.errors is not None
    assert len(result.errors) >= 3  # one per product (per variant for swatches)
    for error in (e.formatted for e in result.errors):
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["channels"] == ["web", "mobile", "email", "marketplace"]
        assert error["path"][:3] == ["products", "edges", error["path"][2]]
        assert error["path"][-1] in ("heroImage", "swatch")
