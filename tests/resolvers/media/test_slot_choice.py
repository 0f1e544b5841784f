"""One rule fills a slot: the manifest, heroImage, a variant's swatch and readiness agree, over
the demo catalog (issue 10, items 3 and 6)."""

from typing import Any

import pytest

from resolvers.services import Services
from tests.graphql_helpers import data_of

PAGES = """query($after: String, $channel: String!, $heroSlot: String!) {
  products(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { sku
    heroImage(channel: $channel) { publicId isPlaceholder url(slot: $heroSlot) }
    mediaManifest(channel: $channel) { slots { slot url isPlaceholder asset { publicId } } }
    variants { sku options { code value }
               swatch(channel: $channel) { publicId isPlaceholder url(slot: "swatch") } }
    readiness(channel: $channel) { checks { id passed message } }
} } } }"""


def hero_slot(services: Services, channel: str) -> str:
    """The slot heroImage stands for: the channel's slot named hero, else its first hero-led one."""
    profile = services.channels.profiles[channel]
    if "hero" in profile.slots:
        return "hero"
    return next(name for name, slot in profile.slots.items() if slot.roles[0] == "hero")


async def every_product(services: Services, channel: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    given = {"channel": channel, "heroSlot": hero_slot(services, channel)}
    while True:
        page = (await data_of(services, PAGES, {**given, "after": after}))["products"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def colour(variant: dict[str, Any]) -> str | None:
    return next((o["value"] for o in variant["options"] if o["code"] == "color"), None)


async def test_variants_of_one_colour_share_its_swatch(demo: Services) -> None:
    # The demo attaches a colour's swatch to its first variant (here size 41) only.
    data = await data_of(
        demo,
        """{ product(sku: "AG-RUN-000090") { variants { sku
        swatch(channel: "web") { publicId isPlaceholder } } } }""",
    )
    swatches = {v["sku"]: v["swatch"] for v in data["product"]["variants"]}
    for size in (41, 42, 43):
        assert swatches[f"AG-RUN-000090-OLIVE-{size}"] == {
            "publicId": "catalog/AG-RUN-000090/swatch-1",
            "isPlaceholder": False,
        }
        assert swatches[f"AG-RUN-000090-YELLOW-{size}"] == {
            "publicId": "catalog/AG-RUN-000090/swatch-2",
            "isPlaceholder": False,
        }


@pytest.mark.parametrize("channel", ["web", "mobile"])
async def test_no_demo_variant_gets_the_swatch_placeholder(demo: Services, channel: str) -> None:
    """Every colour of the demo has a swatch (all active in this mirror), so no variant may get
    the placeholder, and variant_swatches passes everywhere."""
    products = await every_product(demo, channel)
    variants = [v for p in products for v in p["variants"]]
    assert len(variants) > 500
    placeholders = [v["sku"] for v in variants if v["swatch"]["isPlaceholder"]]
    assert placeholders == []
    # Variants of one colour deliver one swatch.
    for product in products:
        by_colour: dict[str | None, set[str]] = {}
        for variant in product["variants"]:
            by_colour.setdefault(colour(variant), set()).add(variant["swatch"]["publicId"])
        assert all(len(ids) == 1 for ids in by_colour.values()), product["sku"]
    failed = [
        p["sku"]
        for p in products
        for c in p["readiness"]["checks"]
        if c["id"] == "variant_swatches" and not c["passed"]
    ]
    assert failed == []


@pytest.mark.parametrize("channel", ["web", "mobile"])
async def test_variant_swatches_fails_exactly_when_a_variant_gets_the_placeholder(
    fresh_demo: Services, channel: str
) -> None:
    demo = fresh_demo
    # Reject the swatches of some products: their colours then have no swatch of their own.
    swatches = [
        r["publicId"]
        async for p in demo.catalog.products.find({"variants.1": {"$exists": True}}).limit(40)
        for r in p["media"]
        if r["role"] == "swatch"
    ][::3]
    assert swatches
    await demo.catalog.assets.update_many(
        {"publicId": {"$in": swatches}}, {"$set": {"status": "rejected"}}
    )
    products = await every_product(demo, channel)
    disagreements = []
    failing = 0
    for product in products:
        [check] = [c for c in product["readiness"]["checks"] if c["id"] == "variant_swatches"]
        placeholder = [
            v["sku"] for v in product["variants"] if colour(v) and v["swatch"]["isPlaceholder"]
        ]
        failing += not check["passed"]
        if check["passed"] == bool(placeholder):
            disagreements.append((product["sku"], placeholder, check["message"]))
        for sku in placeholder:
            assert sku in check["message"]
    assert disagreements == []
    assert failing > 0


@pytest.mark.parametrize("channel", ["web", "mobile", "email", "marketplace"])
async def test_hero_image_is_what_the_manifest_puts_in_the_hero_slot(
    demo: Services, channel: str
) -> None:
    name = hero_slot(demo, channel)
    products = await every_product(demo, channel)
    for product in products:
        [slot] = [s for s in product["mediaManifest"]["slots"] if s["slot"] == name]
        hero = product["heroImage"]
        assert (hero["publicId"], hero["isPlaceholder"], hero["url"]) == (
            slot["asset"]["publicId"],
            slot["isPlaceholder"],
            slot["url"],
        ), product["sku"]
