"""Live readiness served from the per-process memo answers exactly what scoring afresh answers:
on a second read, after a document changed behind the gateway's back, and when a promotional
window opens between two reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from resolvers import products, raw_documents
from resolvers.db import Catalog
from resolvers.raw_documents import RawDocuments, find_documents
from resolvers.readiness import evaluate
from resolvers.readiness.memo import ReadinessMemo
from resolvers.services import Services
from tests.demo_fixtures import CHANNELS, NOW
from tests.graphql_helpers import data_of, services_for

PAGE = 100
READINESS = """query($channel: String!, $locale: String) {
  products(first: 100) { edges { node {
    sku
    readiness(channel: $channel, locale: $locale) {
      score ready missingLocales missingRoles checks { id passed severity weight message hint }
    }
  } } }
}"""


async def scores(services: Services, channel: str, locale: str | None = None) -> dict[str, Any]:
    data = await data_of(services, READINESS, {"channel": channel, "locale": locale})
    return {e["node"]["sku"]: e["node"]["readiness"] for e in data["products"]["edges"]}


async def first_with_a_deliverable_hero(catalog: Catalog) -> tuple[dict[str, Any], str]:
    """The first product (by SKU) whose only hero image is mirrored and active, and its id."""
    async for product in catalog.products.find({}).sort("sku", 1):
        heroes = [r["publicId"] for r in product["media"] if r["role"] == "hero"]
        if len(heroes) == 1 and await catalog.assets.find_one(
            {"publicId": heroes[0], "status": "active", "validFrom": None}
        ):
            return product, heroes[0]
    raise AssertionError("no product with a deliverable hero image")


def scored_afresh(catalog: Catalog, now: datetime = NOW) -> Services:
    return services_for(catalog, clock=lambda: now, readiness_memo=ReadinessMemo(0))


async def test_a_second_read_is_served_from_the_memo_and_answers_the_same(
    demo: Services,
) -> None:
    memo = demo.readiness_memo
    reads = 0
    for channel in CHANNELS.names():
        for locale in (None, "de-DE"):
            live = await scores(scored_afresh(demo.catalog), channel, locale)
            first = await scores(demo, channel, locale)
            second = await scores(demo, channel, locale)
            assert first == live == second, (channel, locale)
            reads += 1
            assert (memo.misses, memo.hits) == (reads * PAGE, reads * PAGE)
    assert len(memo) == reads * PAGE


async def test_a_document_changed_in_mongodb_is_scored_again(fresh_demo: Services) -> None:
    catalog = fresh_demo.catalog
    before = await scores(fresh_demo, "web")
    product, hero = await first_with_a_deliverable_hero(catalog)
    # An edit that bypasses the gateway (no revision, no event): only the bytes tell.
    await catalog.assets.update_one({"publicId": hero}, {"$set": {"status": "rejected"}})
    after = await scores(fresh_demo, "web")
    assert after == await scores(scored_afresh(catalog), "web")
    assert after[product["sku"]] != before[product["sku"]]
    assert {sku for sku in after if after[sku] != before[sku]} == {product["sku"]}
    memo = fresh_demo.readiness_memo
    assert (memo.misses, memo.hits) == (PAGE + 1, PAGE - 1)


async def test_a_promotional_window_opening_is_scored_again(fresh_demo: Services) -> None:
    catalog = fresh_demo.catalog
    product, hero = await first_with_a_deliverable_hero(catalog)
    opens = NOW + timedelta(days=1)
    await catalog.assets.update_one({"publicId": hero}, {"$set": {"validFrom": opens}})
    clock = [NOW]
    services = services_for(catalog, clock=lambda: clock[0])
    sku = product["sku"]
    closed = await scores(services, "web")
    clock[0] = opens
    opened = await scores(services, "web")
    assert opened == await scores(scored_afresh(catalog, opens), "web")
    assert closed[sku] != opened[sku]
    assert "promotional window opens" in str(closed[sku]["checks"])
    assert "promotional window opens" not in str(opened[sku]["checks"])
    # Only the product with the window was scored again.
    assert (services.readiness_memo.misses, services.readiness_memo.hits) == (PAGE + 1, PAGE - 1)


LISTING_WITHOUT_READINESS = """{
  products(first: 10) { edges { node {
    sku name heroImage(channel: "web") { url(slot: "hero") }
  } } }
}"""


async def test_only_requests_that_score_record_what_mongodb_sends(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[int] = []
    decode = raw_documents.decode_recorded

    async def counting(*args: Any) -> list[dict[str, Any]]:
        documents = await decode(*args)
        recorded.append(len(documents))
        return documents

    monkeypatch.setattr(raw_documents, "decode_recorded", counting)
    monkeypatch.setattr(products, "decode_recorded", counting)
    await data_of(demo, LISTING_WITHOUT_READINESS)
    assert recorded == []
    await scores(demo, "web")
    # The page (and the product after it, which says whether there is a next page), its
    # assets, the categories and the attribute definitions.
    assert len(recorded) == 4
    assert recorded[0] == PAGE + 1


async def test_the_memo_keeps_at_most_its_entries(demo: Services) -> None:
    services = services_for(demo.catalog, clock=lambda: NOW, readiness_memo=ReadinessMemo(10))
    await scores(services, "web")
    await scores(services, "mobile")
    assert len(services.readiness_memo) == 10


async def test_a_document_changed_in_place_after_it_was_read_is_not_kept(demo: Services) -> None:
    raws = RawDocuments(recording=True)
    found = await find_documents(demo.catalog.products, {}, None, raws, batch_size=10)
    kept, changed = found[0], found[1]
    changed["name"] = {"en-US": "changed after reading"}
    memo = ReadinessMemo()
    arguments: dict[str, Any] = {
        "assets": {},
        "categories": [],
        "attributes": {},
        "channel": "web",
        "channels": demo.channels,
        "locales": demo.locales,
        "locale": None,
        "now": NOW,
    }
    for product in (kept, changed):
        result = memo.evaluate(product, **arguments, raws=raws)
        assert result == evaluate(product, **arguments)
    assert (memo.misses, memo.refused, len(memo)) == (2, 1, 1)
