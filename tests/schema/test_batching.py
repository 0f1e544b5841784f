"""No N+1: the MongoDB commands of a page do not grow with its size."""

from typing import Any

import pytest

from resolvers.db import Catalog, ensure_indexes
from resolvers.services import Services
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import ATTRIBUTES, CATEGORIES, LOCALES, product
from tests.graphql_helpers import data_of, services_for

PAGE = """query($first: Int!) {
  products(first: $first) {
    edges { node {
      sku
      categories { slug }
      variants { sku options { code value } }
      accessories { sku name }
      bundleItems { quantity product { sku } }
      related { sku }
    } }
  }
}"""

N = 300


def related_catalog() -> list[dict[str, Any]]:
    """Every product points at products far away in SKU order, so pages never cover them."""
    leaves = ["running-shoes", "socks", "home"]
    documents = []
    for i in range(N):
        documents.append(
            product(
                f"P-{i:04d}",
                i,
                categories=[leaves[i % 3], "footwear"],
                variants=[
                    {"sku": f"P-{i:04d}-V{v}", "options": {"size": str(40 + v)}} for v in range(3)
                ],
                accessories=[f"P-{(i + 101 + k) % N:04d}" for k in range(3)],
                related=[f"P-{(i + 157 + k) % N:04d}" for k in range(2)],
                bundle=[{"sku": f"P-{(i + 211) % N:04d}", "quantity": 2}],
            )
        )
    return documents


@pytest.fixture
async def services(db: Any) -> Services:
    catalog = Catalog(db)
    await ensure_indexes(catalog, LOCALES)
    await catalog.attributes.insert_many([dict(a) for a in ATTRIBUTES])
    await catalog.categories.insert_many([dict(c) for c in CATEGORIES])
    await catalog.products.insert_many(related_catalog())
    return services_for(catalog)


async def commands_for(
    services: Services, db: Any, counter: CommandCounter, query: str, variables: dict[str, Any]
) -> dict[str, int]:
    with counter.record(db.name) as recorded:
        await data_of(services, query, variables)
    return dict(recorded.names())


async def test_page_of_10_and_page_of_100_cost_the_same_commands(
    services: Services, db: Any, command_counter: CommandCounter
) -> None:
    small = await commands_for(services, db, command_counter, PAGE, {"first": 10})
    large = await commands_for(services, db, command_counter, PAGE, {"first": 100})
    assert small == large
    # The page; one batch of categories; one batch for accessories, bundle items and related.
    assert large == {"find:products": 2, "find:categories": 1}


async def test_fields_not_selected_cost_nothing(
    services: Services, db: Any, command_counter: CommandCounter
) -> None:
    query = "{ products(first: 100) { edges { node { sku name variants { sku } } } } }"
    assert await commands_for(services, db, command_counter, query, {}) == {"find:products": 1}
    counted = "{ products(first: 5) { totalCount } }"
    assert await commands_for(services, db, command_counter, counted, {}) == {
        "find:products": 1,
        "aggregate:products": 1,
    }


async def test_demo_catalog_pages_cost_the_same_commands(
    db: Any, command_counter: CommandCounter
) -> None:
    from demo.seeding import seed_demo_catalog

    catalog = Catalog(db)
    await ensure_indexes(catalog, LOCALES)
    await seed_demo_catalog(db, products=300, locales=LOCALES)
    services = services_for(catalog)
    small = await commands_for(services, db, command_counter, PAGE, {"first": 10})
    large = await commands_for(services, db, command_counter, PAGE, {"first": 100})
    assert small == large == {"find:products": 2, "find:categories": 1}


NAME_SORTED = """query($first: Int!, $after: String, $locale: String!) {
  products(first: $first, after: $after, sort: { field: NAME, locale: $locale }) {
    edges { node { sku name(locale: $locale) } } pageInfo { endCursor }
  }
}"""


@pytest.mark.parametrize(
    ("locale", "command"),
    # The default locale sorts on its indexed field; the others on the name their chain shows.
    [("en-US", "find:products"), ("de-AT", "aggregate:products")],
)
async def test_name_sorted_pages_cost_one_command_whatever_their_size(
    services: Services, db: Any, command_counter: CommandCounter, locale: str, command: str
) -> None:
    counts = []
    for first in (10, 100):
        page = {"first": first, "after": None, "locale": locale}
        counts.append(await commands_for(services, db, command_counter, NAME_SORTED, page))
        cursor = (await data_of(services, NAME_SORTED, page))["products"]["pageInfo"]
        after = {**page, "after": cursor["endCursor"]}
        counts.append(await commands_for(services, db, command_counter, NAME_SORTED, after))
    assert counts == [{command: 1}] * 4
