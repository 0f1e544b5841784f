"""Channel and slot arguments: one rule for names (case-insensitive, answered canonically, like
locales), and an unknown channel is refused before anything executes."""

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


@pytest.mark.parametrize(
    ("field", "variables"),
    [
        ('heroImage(channel: "nope") { publicId }', {}),
        ('variants { swatch(channel: "nope") { publicId } }', {}),
        ("mediaManifest(channel: $channel) { complete }", {"channel": "nope"}),
        ("readiness(channel: $channel) { score }", {"channel": "nope"}),
        ('media(channel: "nope") { publicId }', {}),
    ],
)
async def test_an_unknown_channel_is_refused_before_anything_executes(
    demo: Services, field: str, variables: dict[str, str]
) -> None:
    """Non-null fields (media, mediaManifest, readiness) would null the whole page: every
    channel, literal or variable, is checked first, and the error points at the argument."""
    header = "query($channel: String!)" if variables else "query"
    query = (
        f"{header} {{ products(first: 3) {{ edges {{ node {{ sku "
        f'{field} good: heroImage(channel: "web") {{ publicId }} '
        "} } } }"
    )
    result = await execute(demo, query, variables or None)
    assert result.data is None
    assert result.errors is not None
    errors = [e.formatted for e in result.errors]
    assert len(errors) == 1
    for error in errors:
        assert error["message"] == (
            "unknown channel 'nope'; channels: web, mobile, email, marketplace"
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["channels"] == ["web", "mobile", "email", "marketplace"]
        assert "path" not in error  # nothing executed: a request error
        assert error["locations"]
