"""Readiness: every rule passing and failing, lazy and stored scores agreeing, filter, sort,
the dashboard, and batching."""

import copy
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.channels import Channels
from resolvers.locales import LocaleResolver
from resolvers.readiness import Readiness, evaluate
from resolvers.readiness.rules import asset_keys, needed_codes
from resolvers.services import Services
from tests.command_counter import CommandCounter
from tests.demo_fixtures import NOW
from tests.graphql_helpers import data_of, execute

SETTINGS = Settings()
LOCALES = LocaleResolver(SETTINGS.locales, SETTINGS.default_locale, SETTINGS.fallback_chains)
CHANNELS = load_profiles(SETTINGS).channels

CATEGORY = {"slug": "running-shoes", "requiredAttributes": ["color", "material"]}
ATTRIBUTES: dict[str, Any] = {
    "color": {"code": "color", "type": "enum", "localizable": False},
    "material": {"code": "material", "type": "text", "localizable": True},
}
ALT = {"en-US": "Shoe", "de-DE": "Schuh", "fr-FR": "Chaussure", "it-IT": "Scarpa"}
TEXT = {
    "name": {t: "Trail Runner" for t in ("en-US", "de-DE", "fr-FR", "it-IT")},
    "description": {
        t: "A light shoe for long trail runs." for t in ("en-US", "de-DE", "fr-FR", "it-IT")
    },
}


def asset(public_id: str, **fields: Any) -> dict[str, Any]:
    document = {
        "publicId": public_id,
        "resourceType": "image",
        "status": "active",
        "format": "jpg",
        "width": 2400,
        "height": 2400,
        "alt": dict(ALT),
    }
    document.update(fields)
    return document


def ready_product() -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    """A product every rule passes on every channel."""
    media = [
        {"publicId": "p/hero-1", "role": "hero", "position": 0},
        {"publicId": "p/lifestyle-1", "role": "lifestyle", "position": 1},
        {"publicId": "p/front-1", "role": "front", "position": 5},
        {"publicId": "p/video-1", "role": "video", "position": 2},
        {"publicId": "p/swatch-red", "role": "swatch", "position": 3, "variantSku": "P-RED"},
        {"publicId": "p/swatch-blue", "role": "swatch", "position": 4, "variantSku": "P-BLUE"},
    ]
    product = {
        "sku": "P",
        **copy.deepcopy(TEXT),
        "categories": ["running-shoes"],
        "attributes": {"color": {"value": "red"}, "material": {"value": {t: "Mesh" for t in ALT}}},
        "variants": [
            {"sku": "P-RED", "options": {"color": "red"}},
            {"sku": "P-BLUE", "options": {"color": "blue"}},
        ],
        "media": media,
    }
    assets: dict[tuple[str, str], Any] = {
        ("image", "p/hero-1"): asset("p/hero-1"),
        ("image", "p/lifestyle-1"): asset("p/lifestyle-1"),
        ("image", "p/front-1"): asset("p/front-1"),
        ("video", "p/video-1"): asset(
            "p/video-1",
            resourceType="video",
            format="mp4",
            width=1920,
            height=1080,
            poster="p/poster-1",
        ),
        ("image", "p/swatch-red"): asset("p/swatch-red", width=200, height=200),
        ("image", "p/swatch-blue"): asset("p/swatch-blue", width=200, height=200),
    }
    return product, assets


def run(
    product: dict[str, Any],
    assets: dict[tuple[str, str], Any],
    channel: str = "web",
    locale: str | None = None,
    channels: Channels = CHANNELS,
) -> Readiness:
    return evaluate(
        product,
        assets=assets,
        categories=[CATEGORY],
        attributes=ATTRIBUTES,
        channel=channel,
        channels=channels,
        locales=LOCALES,
        locale=locale,
        now=NOW,
    )


def check(result: Readiness, rule: str) -> tuple[bool, str]:
    [found] = [c for c in result.checks if c.id == rule]
    return found.passed, found.message


@pytest.mark.parametrize("channel", CHANNELS.names())
def test_a_complete_product_passes_every_rule(channel: str) -> None:
    product, assets = ready_product()
    result = run(product, assets, channel)
    assert [c.id for c in result.checks if not c.passed] == []
    assert (result.score, result.ready, result.missing_locales, result.missing_roles) == (
        100,
        True,
        (),
        (),
    )


def test_hero_image() -> None:
    product, assets = ready_product()
    product["media"] = [m for m in product["media"] if m["role"] != "hero"]
    assert check(run(product, assets), "hero_image") == (False, "no hero image")
    product, assets = ready_product()
    assets[("image", "p/hero-1")]["status"] = "rejected"
    passed, message = check(run(product, assets), "hero_image")
    assert not passed
    assert message.startswith("no deliverable hero image (p/hero-1: rejected at ingest")


def test_image_resolution() -> None:
    product, assets = ready_product()
    assets[("image", "p/hero-1")].update(width=900, height=900)
    passed, message = check(run(product, assets), "image_resolution")
    assert not passed
    assert "p/hero-1 is 900x900, slot card needs 400x400" not in message  # big enough there
    assert "p/hero-1 is 900x900, slot zoom needs 1000x1000" in message


def test_alt_text_per_locale() -> None:
    product, assets = ready_product()
    del assets[("image", "p/hero-1")]["alt"]["fr-FR"]
    result = run(product, assets, "web")
    passed, message = check(result, "alt_text")
    assert not passed
    assert "p/hero-1 lacks fr-FR, fr-CA" in message  # fr-CA falls back to fr-FR, not en-US
    assert result.missing_locales == ("fr-FR", "fr-CA")
    # Asked for one locale only, the others do not matter.
    assert check(run(product, assets, "web", locale="de-AT"), "alt_text")[0] is True


def test_delivery_fallback() -> None:
    product, assets = ready_product()
    assets[("image", "p/hero-1")].pop("format")
    passed, message = check(run(product, assets), "delivery_fallback")
    assert (passed, message) == (False, "p/hero-1 has no known format")


def test_variant_swatches() -> None:
    product, assets = ready_product()
    product["media"] = [m for m in product["media"] if m["publicId"] != "p/swatch-blue"]
    assert check(run(product, assets), "variant_swatches") == (
        False,
        "no deliverable swatch or image for colour blue (P-BLUE gets the swatch placeholder)",
    )
    # The marketplace has no swatch slot: no variant gets a swatch placeholder there.
    assert check(run(product, assets, "marketplace"), "variant_swatches") == (
        True,
        "marketplace has no swatch slot",
    )
    product["variants"] = [{"sku": "P-ONE", "options": {"size": "M"}}]
    assert check(run(product, assets), "variant_swatches") == (True, "no colour variants")


def sized_variants(product: dict[str, Any]) -> None:
    """Two sizes per colour; the demo way: each colour's media on its first size only."""
    product["variants"] = [
        {"sku": f"P-{colour.upper()}-{size}", "options": {"color": colour, "size": size}}
        for colour in ("red", "blue")
        for size in ("41", "42")
    ]
    for reference in product["media"]:
        if "variantSku" in reference:
            reference["variantSku"] += "-41"


def test_variant_swatches_resolve_per_colour() -> None:
    product, assets = ready_product()
    sized_variants(product)
    # A colour's swatch, attached to one of its variants, serves all of them.
    assert check(run(product, assets), "variant_swatches") == (
        True,
        "2 colour(s) have a swatch or image",
    )
    assets[("image", "p/swatch-blue")]["status"] = "rejected"
    assert check(run(product, assets), "variant_swatches") == (
        False,
        "no deliverable swatch or image for colour blue "
        "(P-BLUE-41, P-BLUE-42 get the swatch placeholder)",
    )
    # Only what the swatch slot may show counts: a lifestyle image of a blue variant does not.
    lifestyle = {"publicId": "p/lifestyle-blue", "role": "lifestyle", "position": 6}
    product["media"].append({**lifestyle, "variantSku": "P-BLUE-42"})
    assets[("image", "p/lifestyle-blue")] = asset("p/lifestyle-blue")
    assert check(run(product, assets), "variant_swatches")[0] is False
    # A front image of a blue variant stands in for the swatch, for both blue sizes.
    front = {"publicId": "p/front-blue", "role": "front", "position": 7}
    product["media"].append({**front, "variantSku": "P-BLUE-42"})
    assets[("image", "p/front-blue")] = asset("p/front-blue")
    assert check(run(product, assets), "variant_swatches")[0] is True


def test_video_posters() -> None:
    product, assets = ready_product()
    assets[("video", "p/video-1")].pop("poster")
    assert check(run(product, assets), "video_posters") == (
        False,
        "no poster (a video frame is shown instead): p/video-1",
    )
    assert "video_posters" not in {c.id for c in run(product, assets, "email").checks}


def test_required_attributes() -> None:
    product, assets = ready_product()
    product["attributes"] = {"material": {"value": {"en-US": "Mesh", "de-DE": "Netz"}}}
    result = run(product, assets, "mobile")
    passed, message = check(result, "required_attributes")
    assert (passed, message) == (False, "missing color, material (fr-FR, it-IT)")
    assert result.ready is False  # a blocker


def test_text_lengths() -> None:
    product, assets = ready_product()
    product["name"] = {"en-US": "X" * 151, "de-DE": "Trailläufer"}
    product["description"]["de-DE"] = "Kurz"
    passed, message = check(run(product, assets, "email"), "text_lengths")
    assert not passed
    assert message == (
        "name in en-US has 151 characters (allowed 3-150); name missing in fr-FR; "
        "description in de-DE has 4 characters (allowed 20-5000)"
    )


def test_text_lengths_come_from_the_validation_rules() -> None:
    # One source: the limits writes are validated against (validation.toml [text.*]).
    product, assets = ready_product()
    stricter = CHANNELS.text_lengths.model_copy(
        update={"name": CHANNELS.text_lengths.name.model_copy(update={"max_length": 10})}
    )
    channels = CHANNELS.with_text_lengths(stricter)
    assert channels.digest != CHANNELS.digest  # stored scores are recomputed
    passed, message = check(run(product, assets, "email", channels=channels), "text_lengths")
    assert (passed, message) == (
        False,
        "name in en-US has 12 characters (allowed 3-10); "
        "name in de-DE has 12 characters (allowed 3-10); "
        "name in fr-FR has 12 characters (allowed 3-10)",
    )
    unwired = Channels(CHANNELS.profiles, CHANNELS.digest, CHANNELS.source, CHANNELS.readiness)
    with pytest.raises(LookupError, match=r"validation\.toml"):
        run(product, assets, "email", channels=unwired)


def test_asset_validity() -> None:
    product, assets = ready_product()
    assets[("image", "p/lifestyle-1")]["validTo"] = NOW - timedelta(days=1)
    assets[("image", "p/swatch-red")]["usageChannels"] = ["web"]
    web = run(product, assets, "web")
    assert check(web, "asset_validity") == (
        False,
        "p/lifestyle-1: expired 2026-05-30 (promotional window over)",
    )
    mobile = check(run(product, assets, "mobile"), "asset_validity")[1]
    assert "p/swatch-red: usage rights do not cover mobile (only web)" in mobile


def test_score_weights_and_blockers() -> None:
    product, assets = ready_product()
    assets[("video", "p/video-1")].pop("poster")  # web: warning of weight 5 out of 110
    result = run(product, assets, "web")
    assert (result.score, result.ready) == (95, True)
    product["media"] = []  # no hero (blocker), no images, no swatches
    result = run(product, assets, "web")
    assert result.ready is False
    assert result.missing_roles == ("hero", "lifestyle", "swatch", "video")


def test_channel_overrides_apply() -> None:
    product, assets = ready_product()
    for key in list(assets):
        assets[key]["alt"] = {"en-US": "Shoe"}
    marketplace = run(product, assets, "marketplace")
    # alt_text is a blocker on the marketplace, a warning on the web.
    assert (marketplace.ready, run(product, assets, "web").ready) == (False, True)


# The whole demo catalog through the API.


async def all_pages(services: Services, query: str, variables: dict[str, Any]) -> list[Any]:
    nodes, after = [], None
    while True:
        page = (await data_of(services, query, {**variables, "after": after}))["products"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


LIVE = """query($after: String, $channel: String!) { products(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { sku readiness(channel: $channel) { score ready checks { id passed } } } } } }"""


@pytest.mark.parametrize("channel", CHANNELS.names())
async def test_lazy_and_stored_scores_agree_over_the_demo_catalog(
    demo: Services, channel: str
) -> None:
    live = await all_pages(demo, LIVE, {"channel": channel})
    stored = {
        d["sku"]: d["readiness"][channel]
        async for d in demo.catalog.products.find({}, {"sku": 1, "readiness": 1})
    }
    assert len(live) == len(stored) == 300
    for node in live:
        readiness = node["readiness"]
        failed = [c["id"] for c in readiness["checks"] if not c["passed"]]
        assert (readiness["score"], readiness["ready"], failed) == (
            stored[node["sku"]]["score"],
            stored[node["sku"]]["ready"],
            stored[node["sku"]]["failed"],
        ), node["sku"]
    # The planted and mirrored defects make for a real spread of scores.
    assert len({n["readiness"]["score"] for n in live}) >= 5
    assert 0 < sum(n["readiness"]["ready"] for n in live) < 300


async def test_filter_and_sort_by_stored_readiness(demo: Services) -> None:
    query = """query($after: String) { products(first: 100, after: $after,
        filter: { readiness: { channel: "mobile", minScore: 50, maxScore: 95 } },
        sort: { field: READINESS, channel: "mobile", direction: DESC }) {
        pageInfo { hasNextPage endCursor }
        edges { node { sku readiness(channel: "mobile") { score } } } } }"""
    nodes = await all_pages(demo, query, {})
    scores = [n["readiness"]["score"] for n in nodes]
    assert scores == sorted(scores, reverse=True)
    assert all(50 <= s <= 95 for s in scores)
    expected = await demo.catalog.products.count_documents(
        {"readiness.mobile.score": {"$gte": 50, "$lte": 95}}
    )
    assert len(nodes) == expected > 0
    ready = await data_of(
        demo,
        """{ products(filter: { readiness: { channel: "web", ready: true } })
        { totalCount } }""",
    )
    assert ready["products"]["totalCount"] == await demo.catalog.products.count_documents(
        {"readiness.web.ready": True}
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('filter: { readiness: { channel: "tv", ready: true } }', "unknown channel 'tv'"),
        ('filter: { readiness: { channel: "web" } }', "give 'minScore', 'maxScore' or 'ready'"),
        ('filter: { readiness: { channel: "web", minScore: 9, maxScore: 1 } }', "above"),
        ("sort: { field: READINESS }", "sorting by READINESS needs 'channel'"),
    ],
)
async def test_bad_readiness_arguments(demo: Services, arguments: str, message: str) -> None:
    result = await execute(demo, f"{{ products({arguments}) {{ totalCount }} }}")
    assert result.errors is not None
    assert result.errors[0].formatted["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in result.errors[0].message


async def test_catalog_readiness_summary_matches_the_stored_scores(demo: Services) -> None:
    data = await data_of(
        demo,
        """{ catalogReadiness(channel: "web", top: 20) {
        channel products scored stale ready averageScore
        bands { min max count } failingChecks { id count } } }""",
    )
    summary = data["catalogReadiness"]
    stored = [d["readiness"]["web"] async for d in demo.catalog.products.find({}, {"readiness": 1})]
    assert (summary["products"], summary["scored"], summary["stale"]) == (300, 300, 0)
    assert summary["ready"] == sum(s["ready"] for s in stored)
    assert summary["averageScore"] == round(sum(s["score"] for s in stored) / 300, 1)
    bands = {(b["min"], b["max"]): b["count"] for b in summary["bands"]}
    assert list(bands) == [(0, 19), (20, 39), (40, 59), (60, 79), (80, 99), (100, 100)]
    for (low, high), count in bands.items():
        assert count == sum(low <= s["score"] <= high for s in stored)
    failing = Counter(rule for s in stored for rule in s["failed"])
    assert {f["id"]: f["count"] for f in summary["failingChecks"]} == dict(failing)
    counts = [f["count"] for f in summary["failingChecks"]]
    assert counts == sorted(counts, reverse=True)


async def test_readiness_of_a_page_costs_one_query_per_collection(
    demo: Services, command_counter: CommandCounter
) -> None:
    query = """query($first: Int!) { products(first: $first) { edges { node {
        readiness(channel: "web") { score checks { id message } } } } } }"""
    counts = []
    for first in (10, 100):
        with command_counter.record(demo.catalog.db.name) as recorded:
            await data_of(demo, query, {"first": first})
        counts.append(dict(recorded.names()))
    assert (
        counts[0]
        == counts[1]
        == {"find:products": 1, "find:assets": 1, "find:categories": 1, "find:attributes": 1}
    )


async def test_profile_changes_make_scores_stale(demo: Services) -> None:
    changed = Channels(CHANNELS.profiles, "another-digest", CHANNELS.source, CHANNELS.readiness)
    from resolvers.readiness import stale_query

    assert await demo.catalog.products.count_documents(stale_query(CHANNELS)) == 0
    assert await demo.catalog.products.count_documents(stale_query(changed)) == 300


async def test_scores_stored_by_older_rules_are_stale(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy that changes what a rule scores rescores what the old code stored."""
    from resolvers.readiness import rules, stale_query, store

    monkeypatch.setattr(store, "RULES_VERSION", rules.RULES_VERSION + 1)
    assert await demo.catalog.products.count_documents(stale_query(CHANNELS)) == 300


async def test_dashboards_share_one_aggregation_for_the_ttl(
    demo: Services, command_counter: CommandCounter
) -> None:
    from dataclasses import replace

    from resolvers.shared_result import SharedResults

    shared = replace(demo, dashboards=SharedResults(60, wall_clock=lambda: NOW))
    query = '{ catalogReadiness(channel: "web") { ready computedAt } }'
    with command_counter.record(demo.catalog.db.name) as recorded:
        first = await data_of(shared, query)
        second = await data_of(shared, query)
    assert first == second
    assert first["catalogReadiness"]["computedAt"] == NOW.isoformat()
    assert dict(recorded.names()) == {"aggregate:products": 1}


def test_scoring_channels_with_one_memo_answers_what_each_channel_alone_answers() -> None:
    """``stored_readiness`` shares a ScoringMemo across channels; the bench catalog (planted
    defects, colour variants, expired and rejected assets) scores exactly as without it."""
    from benchmarks.bench_catalog import generate_bench_catalog
    from resolvers.readiness.store import ReadinessContext, stored_readiness

    bench = generate_bench_catalog(120, now=NOW)
    context = ReadinessContext(
        {(d.get("resourceType", "image"), d["publicId"]): d for d in bench.assets},
        {d["slug"]: d for d in bench.categories},
        {d["code"]: d for d in bench.attributes},
    )
    failing = 0
    for product in bench.products:
        shared = stored_readiness(product, CHANNELS, LOCALES, NOW, context)
        for channel in CHANNELS.names():
            categories = [
                context.categories[s]
                for s in product.get("categories") or []
                if s in context.categories
            ]
            alone = evaluate(
                product,
                assets={k: context.assets.get(k) for k in asset_keys(product)},
                categories=categories,
                attributes={c: context.attributes.get(c) for c in needed_codes(categories)},
                channel=channel,
                channels=CHANNELS,
                locales=LOCALES,
                locale=None,
                now=NOW,
            )
            assert (shared[channel]["score"], shared[channel]["failed"]) == (
                alone.score,
                alone.failed,
            )
            failing += bool(alone.failed)
    assert failing > 40  # the comparison covers failing checks, not only clean products
