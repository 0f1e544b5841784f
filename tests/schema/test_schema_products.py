"""The product graph through the schema, as resolvers see it (no HTTP)."""

from typing import Any

import pytest

from resolvers.db import Catalog
from resolvers.services import Services
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog, product
from tests.graphql_helpers import data_of, execute, services_for

pytestmark = pytest.mark.indexed


@pytest.fixture
async def services(db: Any) -> Services:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    return services_for(catalog)


async def skus(services: Services, arguments: str) -> list[str]:
    data = await data_of(services, f"{{ products({arguments}) {{ edges {{ node {{ sku }} }} }} }}")
    return [edge["node"]["sku"] for edge in data["products"]["edges"]]


def error_codes(result: Any) -> list[str]:
    return [e.formatted["extensions"]["code"] for e in result.errors]


async def test_product_by_sku_and_by_id_agree(services: Services) -> None:
    by_sku = await data_of(services, '{ product(sku: "NW-RUN-001") { id sku brand status } }')
    product = by_sku["product"]
    assert product == {
        "id": product["id"],
        "sku": "NW-RUN-001",
        "brand": "Northwind",
        "status": "PUBLISHED",
    }
    by_id = await data_of(
        services, "query($id: ID!) { product(id: $id) { sku } }", {"id": product["id"]}
    )
    assert by_id["product"]["sku"] == "NW-RUN-001"


async def test_unknown_product_is_null(services: Services) -> None:
    assert (await data_of(services, '{ product(sku: "NOPE") { sku } }'))["product"] is None


@pytest.mark.parametrize(
    "query",
    [
        "{ product { sku } }",
        '{ product(sku: "NW-RUN-001", id: "x") { sku } }',
        '{ product(id: "not-an-id") { sku } }',
    ],
)
async def test_product_lookup_needs_exactly_one_valid_key(services: Services, query: str) -> None:
    result = await execute(services, query)
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_localized_fields_fall_back_and_say_so(services: Services) -> None:
    result = await execute(
        services, '{ product(sku: "NW-RUN-001") { name(locale: "de-AT") description } }'
    )
    assert result.errors is None
    assert result.data == {"product": {"name": "Trailläufer", "description": "A trail shoe"}}
    assert result.extensions == {
        "localeFallbacks": [{"path": ["product", "name"], "requested": "de-AT", "used": "de-DE"}]
    }


async def test_regional_value_wins_over_fallback(services: Services) -> None:
    result = await execute(services, '{ product(sku: "NW-RUN-002") { name(locale: "de-at") } }')
    assert result.data == {"product": {"name": "Straßenläufer (AT)"}}
    assert not result.extensions


async def test_unknown_locale_lists_supported_ones(services: Services) -> None:
    result = await execute(services, '{ product(sku: "NW-RUN-001") { name(locale: "pt-BR") } }')
    assert result.errors is not None
    error = result.errors[0].formatted
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["supportedLocales"] == [
        "en-US",
        "de-DE",
        "de-AT",
        "fr-FR",
        "fr-CA",
        "it-IT",
    ]
    assert "unsupported locale 'pt-BR'" in error["message"]


async def test_attributes_are_typed_and_localized(services: Services) -> None:
    data = await data_of(
        services,
        '{ product(sku: "NW-RUN-001") { attributes { code type unit label(locale: "de-DE") '
        'value(locale: "de-DE") displayValue(locale: "fr-FR") } } }',
    )
    assert data["product"]["attributes"] == [
        {
            "code": "color",
            "type": "ENUM",
            "unit": None,
            "label": "Farbe",
            "value": "red",
            "displayValue": "rouge",
        },
        {
            "code": "weight",
            "type": "NUMBER",
            "unit": "kg",
            "label": "Gewicht",
            "value": 0.8,
            "displayValue": "0,8 kg",
        },
        {
            "code": "waterproof",
            "type": "BOOLEAN",
            "unit": None,
            "label": "Waterproof",
            "value": True,
            "displayValue": "oui",
        },
        {
            "code": "material",
            "type": "TEXT",
            "unit": None,
            "label": "Material",
            "value": "Netzgewebe",
            "displayValue": "Mesh",
        },
    ]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", ["Red", "0.8 kg", "yes", "Mesh"]),
        (None, ["Red", "0.8 kg", "yes", "Mesh"]),
        ("de-AT", ["Rot", "0,8 kg", "ja", "Netzgewebe"]),
        ("it-IT", ["rosso", "0,8 kg", "sì", "Mesh"]),
    ],
)
async def test_display_values_are_localized(
    services: Services, locale: str | None, expected: list[str]
) -> None:
    """Numbers with the locale's decimal sign, booleans and enum options in its language."""
    data = await data_of(
        services,
        'query($locale: String) { product(sku: "NW-RUN-001") { '
        "attributes { displayValue(locale: $locale) } } }",
        {"locale": locale},
    )
    assert [a["displayValue"] for a in data["product"]["attributes"]] == expected


async def test_demo_display_values_in_german_and_french(demo: Services) -> None:
    """The issue's examples: a weight, a boolean and a season, in de-AT and fr-FR."""
    query = """query($locale: String) { products(first: 100) { edges { node {
        attributes(codes: ["weight", "waterproof", "season"]) {
          code value displayValue(locale: $locale) } } } } }"""
    shown: dict[tuple[str, str], dict[Any, str]] = {}
    for locale in ("de-AT", "fr-FR"):
        data = await data_of(demo, query, {"locale": locale})
        for edge in data["products"]["edges"]:
            for attribute in edge["node"]["attributes"]:
                key = (locale, attribute["code"])
                shown.setdefault(key, {})[attribute["value"]] = attribute["displayValue"]
    assert shown["de-AT", "waterproof"] == {True: "ja", False: "nein"}
    assert shown["fr-FR", "waterproof"] == {True: "oui", False: "non"}
    assert shown["de-AT", "season"]["all-season"] == "Ganzjährig"
    assert shown["fr-FR", "season"]["all-season"] == "toutes saisons"
    weights = shown["de-AT", "weight"]
    assert weights
    german = {v: (f"{int(v)}" if v == int(v) else f"{v}".replace(".", ",")) for v in weights}
    assert all(text == f"{german[value]} kg" for value, text in weights.items())
    assert any("," in text for text in weights.values())


async def test_variants_apply_their_overrides(services: Services) -> None:
    data = await data_of(
        services,
        '{ product(sku: "NW-RUN-001") { variants { sku options { code value } '
        'attributes(codes: ["weight"]) { value } } } }',
    )
    assert data["product"]["variants"] == [
        {
            "sku": "NW-RUN-001-RED-42",
            "options": [{"code": "color", "value": "red"}, {"code": "size", "value": "42"}],
            "attributes": [{"value": 0.8}],
        },
        {
            "sku": "NW-RUN-001-BLUE-43",
            "options": [{"code": "color", "value": "blue"}, {"code": "size", "value": "43"}],
            "attributes": [{"value": 0.85}],
        },
    ]


async def test_relations(services: Services) -> None:
    data = await data_of(
        services,
        '{ a: product(sku: "NW-RUN-001") { accessories { sku } related { sku } } '
        'b: product(sku: "NW-BUNDLE-001") { bundleItems { sku quantity product { sku } } } }',
    )
    # The accessory SKU that matches no product is left out rather than failing the query.
    assert data["a"] == {
        "accessories": [{"sku": "NW-SOCK-001"}],
        "related": [{"sku": "NW-RUN-002"}],
    }
    assert data["b"]["bundleItems"] == [
        {"sku": "NW-RUN-001", "quantity": 1, "product": {"sku": "NW-RUN-001"}},
        {"sku": "NW-SOCK-001", "quantity": 2, "product": {"sku": "NW-SOCK-001"}},
    ]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            'filter: { category: "apparel" }',
            ["AC-RUN-003", "NW-BUNDLE-001", "NW-RUN-001", "NW-RUN-002", "NW-SOCK-001"],
        ),
        ('filter: { category: "running-shoes" }', ["AC-RUN-003", "NW-RUN-001", "NW-RUN-002"]),
        ('filter: { brand: ["Acme"] }', ["AC-HOME-001", "AC-RUN-003"]),
        ("filter: { status: [DRAFT, ARCHIVED] }", ["AC-HOME-001", "AC-RUN-003"]),
        ('filter: { search: "trail" }', ["NW-BUNDLE-001", "NW-RUN-001", "NW-SOCK-001"]),
        ('filter: { search: "Trailläufer" }', ["NW-RUN-001"]),
        (
            'filter: { attributes: [{ code: "color", equals: "black" }] }',
            ["AC-RUN-003", "NW-SOCK-001"],
        ),
        (
            'filter: { attributes: [{ code: "weight", min: 0.6, max: 1.2 }] }',
            ["NW-RUN-001", "NW-RUN-002"],
        ),
        ('filter: { attributes: [{ code: "waterproof", equals: true }] }', ["NW-RUN-001"]),
        (
            'filter: { attributes: [{ code: "material", locale: "de-DE", equals: "Netzgewebe" }] }',
            ["NW-RUN-001"],
        ),
        (
            'filter: { variantOptions: [{ code: "color", value: "blue" }] }',
            ["NW-RUN-001", "NW-RUN-002"],
        ),
        # Both options must hold on the same variant: no blue 42 exists.
        (
            'filter: { variantOptions: [{ code: "color", value: "blue" }, '
            '{ code: "size", value: "42" }] }',
            [],
        ),
        (
            'filter: { category: "apparel", brand: ["Northwind"], status: [PUBLISHED] }',
            ["NW-BUNDLE-001", "NW-RUN-001", "NW-RUN-002", "NW-SOCK-001"],
        ),
    ],
)
async def test_filters(services: Services, arguments: str, expected: list[str]) -> None:
    assert await skus(services, arguments) == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('filter: { category: "nope" }', "unknown category 'nope'"),
        ('filter: { attributes: [{ code: "a.b", equals: 1 }] }', "attribute code 'a.b' is invalid"),
        ('filter: { attributes: [{ code: "$where", equals: 1 }] }', "is invalid"),
        ('filter: { attributes: [{ code: "weight" }] }', "give 'equals', 'min' or 'max'"),
        ('filter: { attributes: [{ code: "weight", min: 2, max: 1 }] }', "'min' is above 'max'"),
        ('filter: { attributes: [{ code: "color", equals: {a: 1} }] }', "must be a string"),
        ('filter: { search: "  " }', "'search' must have 1 to 200 characters"),
        ("first: 101", "above the maximum page size of 100"),
        ("first: -1", "must not be negative"),
        ('after: "bogus"', "invalid cursor"),
        ('sort: { field: NAME, locale: "xx-XX" }', "unsupported locale"),
    ],
)
async def test_bad_arguments_are_user_errors(
    services: Services, arguments: str, message: str
) -> None:
    result = await execute(services, f"{{ products({arguments}) {{ totalCount }} }}")
    assert result.data is None
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert message in result.errors[0].message


def the_error(result: Any) -> dict[str, Any]:
    assert result.data is None
    assert result.errors is not None
    assert len(result.errors) == 1
    formatted: dict[str, Any] = result.errors[0].formatted
    return formatted


@pytest.mark.parametrize(
    ("arguments", "message", "extensions"),
    [
        (
            'brand: ["Acme", "Nope"]',
            "unknown brand 'Nope'; brands: Acme, Northwind",
            {"field": "brand", "unknown": ["Nope"], "known": ["Acme", "Northwind"]},
        ),
        (
            'brand: ["northwind"]',
            "unknown brand 'northwind' (did you mean 'Northwind'?); brands: Acme, Northwind",
            {
                "field": "brand",
                "unknown": ["northwind"],
                "didYouMean": ["Northwind"],
                "known": ["Acme", "Northwind"],
            },
        ),
        (
            'attributes: [{ code: "colour", equals: "red" }, { code: "weight", min: 1 }]',
            "unknown attribute code 'colour' (did you mean 'color'?); attribute codes: color, "
            "material, waterproof, weight",
            {
                "field": "attributes",
                "unknown": ["colour"],
                "didYouMean": ["color"],
                "known": ["color", "material", "waterproof", "weight"],
            },
        ),
        (
            'category: "shoes"',
            "unknown category 'shoes'; categories: apparel, footwear, home, running-shoes, socks",
            {
                "field": "category",
                "unknown": ["shoes"],
                "known": ["apparel", "footwear", "home", "running-shoes", "socks"],
            },
        ),
    ],
)
async def test_unknown_codes_in_a_filter_are_user_errors_listing_the_known_ones(
    services: Services, arguments: str, message: str, extensions: dict[str, Any]
) -> None:
    error = the_error(
        await execute(services, f"{{ products(filter: {{ {arguments} }}) {{ totalCount }} }}")
    )
    assert error["message"] == message
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argumentName": "filter",
        **extensions,
        "knownCount": len(extensions["known"]),
    }


async def test_long_lists_of_known_codes_are_bounded(services: Services) -> None:
    await services.catalog.products.insert_many(
        [product(f"B-{i:03d}", i, brand=f"Brand {i:03d}") for i in range(80)]
    )
    error = the_error(
        await execute(services, '{ products(filter: { brand: ["Brand 1000"] }) { totalCount } }')
    )
    extensions = error["extensions"]
    assert extensions["knownCount"] == 82
    assert len(extensions["known"]) == 50
    assert error["message"].endswith("… (82 in all)")
    assert error["message"].count(", ") < 20


async def test_attribute_codes_used_without_a_definition_are_known(services: Services) -> None:
    await services.catalog.products.insert_one(
        product("X-001", 9, attributes={"legacy_code": {"value": "L-7"}})
    )
    arguments = 'filter: { attributes: [{ code: "legacy_code", equals: "L-7" }] }'
    assert await skus(services, arguments) == ["X-001"]


async def test_checking_filter_codes_is_cheap(
    services: Services, db: Any, command_counter: CommandCounter
) -> None:
    """Brands: one distinct over their index per process and minute, again only for a name
    it does not know; attribute codes: the definitions the page reads anyway."""
    by_brand = '{ products(filter: { brand: ["Acme"] }) { edges { node { sku } } } }'
    with command_counter.record(db.name) as first:
        await data_of(services, by_brand)
    with command_counter.record(db.name) as again:
        await data_of(services, by_brand)
    assert dict(first.names()) == {"distinct:products": 1, "find:products": 1}
    assert dict(again.names()) == {"find:products": 1}
    await services.catalog.products.insert_one(product("N-001", 9, brand="Newcomer"))
    with command_counter.record(db.name) as newcomer:
        assert await skus(services, 'filter: { brand: ["Newcomer"] }') == ["N-001"]
    assert dict(newcomer.names()) == {"distinct:products": 1, "find:products": 1}
    by_attribute = """{ products(filter: { attributes: [{ code: "weight", min: 1 }] }) {
        edges { node { sku attributes { code } } } } }"""
    with command_counter.record(db.name) as attributes:
        await data_of(services, by_attribute)
    assert dict(attributes.names()) == {"find:attributes": 1, "find:products": 1}


async def test_sort_by_name_in_a_locale_and_paginate(services: Services) -> None:
    query = """query($after: String) { products(first: 2, after: $after,
        sort: { field: NAME, direction: DESC }) {
        totalCount edges { node { sku } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await data_of(services, query, {"after": after}))["products"]
        assert page["totalCount"] == 6
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["sku"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Trail Sock, Trail Runner, Trail Kit, Sprint Spike, Road Runner, Kettle
    assert seen == [
        "NW-SOCK-001",
        "NW-RUN-001",
        "NW-BUNDLE-001",
        "AC-RUN-003",
        "NW-RUN-002",
        "AC-HOME-001",
    ]


def cursor_value(cursor: str) -> Any:
    """The sort value inside an (opaque) cursor."""
    import base64
    import json

    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[2]


NAME_PAGE = """query($after: String, $locale: String, $direction: SortDirection) {
  products(first: 2, after: $after, sort: { field: NAME, locale: $locale, direction: $direction })
  { edges { cursor node { sku name(locale: $locale) } } pageInfo { hasNextPage endCursor } } }"""


async def names_page_by_page(
    services: Services, locale: str, direction: str = "ASC", query: str = NAME_PAGE
) -> list[tuple[str, str | None, Any]]:
    """(sku, shown name, cursor value) over every page."""
    seen: list[tuple[str, str | None, Any]] = []
    after = None
    while True:
        variables = {"after": after, "locale": locale, "direction": direction}
        page = (await data_of(services, query, variables))["products"]
        seen += [
            (e["node"]["sku"], e["node"]["name"], cursor_value(e["cursor"])) for e in page["edges"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("locale", ["de-AT", "de-at"])
async def test_sort_by_name_in_a_fallback_locale_uses_the_shown_names(
    services: Services, locale: str
) -> None:
    """de-AT has one name of its own; the others come from de-DE, then en-US, as the name field
    shows them, and the cursors carry those names."""
    seen = await names_page_by_page(services, locale)
    assert [(sku, name) for sku, name, _ in seen] == [
        ("AC-HOME-001", "Kettle"),
        ("AC-RUN-003", "Sprint Spike"),
        ("NW-RUN-002", "Straßenläufer (AT)"),
        ("NW-BUNDLE-001", "Trail Kit"),
        ("NW-SOCK-001", "Trail Sock"),
        ("NW-RUN-001", "Trailläufer"),
    ]
    assert [value for _, _, value in seen] == [name for _, name, _ in seen]
    descending = await names_page_by_page(services, locale, "DESC")
    assert descending == list(reversed(seen))


async def collated(services: Services, names: list[str], language: str) -> list[str]:
    """``names`` in MongoDB's order for ``language`` (the order NAME sorts promise)."""
    cursor = await services.catalog.db.aggregate(
        [{"$documents": [{"n": n} for n in names]}, {"$sort": {"n": 1}}],
        collation={"locale": language},
    )
    return [d["n"] async for d in cursor]


@pytest.mark.parametrize(("locale", "language"), [("de-AT", "de"), ("fr-CA", "fr")])
async def test_demo_footwear_sorted_by_name_in_a_regional_locale(
    demo: Services, locale: str, language: str
) -> None:
    """The issue's query: regional locales have a name of their own on a few products only."""
    query = NAME_PAGE.replace("sort: {", 'filter: { category: "footwear" }, sort: {').replace(
        "first: 2", "first: 7"
    )
    seen = await names_page_by_page(demo, locale, query=query)
    names = [name for _, name, _ in seen]
    assert len(seen) > 14
    assert None not in names
    assert [value for _, _, value in seen] == names
    assert names == await collated(demo, [n for n in names if n is not None], language)


async def test_category_tree(services: Services) -> None:
    data = await data_of(
        services,
        """{ categories { slug level children { slug } }
             category(slug: "running-shoes") { name(locale: "de-DE") level requiredAttributes
               parent { slug } ancestors { slug }
               products(first: 2) { totalCount edges { node { sku } } } } }""",
    )
    assert data["categories"] == [
        {"slug": "apparel", "level": 0, "children": [{"slug": "footwear"}, {"slug": "socks"}]},
        {"slug": "home", "level": 0, "children": []},
    ]
    assert data["category"] == {
        "name": "Laufschuhe",
        "level": 2,
        "requiredAttributes": ["color", "weight"],
        "parent": {"slug": "footwear"},
        "ancestors": [{"slug": "apparel"}, {"slug": "footwear"}],
        "products": {
            "totalCount": 3,
            "edges": [{"node": {"sku": "AC-RUN-003"}}, {"node": {"sku": "NW-RUN-001"}}],
        },
    }
    children = await data_of(services, '{ categories(parent: "footwear") { slug } }')
    assert children["categories"] == [{"slug": "running-shoes"}]
    unknown = await execute(services, '{ categories(parent: "nope") { slug } }')
    assert error_codes(unknown) == ["BAD_USER_INPUT"]


async def test_node_and_nodes(services: Services) -> None:
    ids = await data_of(
        services, '{ product(sku: "NW-RUN-002") { id } category(slug: "home") { id } }'
    )
    product_id, category_id = ids["product"]["id"], ids["category"]["id"]
    data = await data_of(
        services,
        """query($ids: [ID!]!, $one: ID!) {
             node(id: $one) { id ... on Product { sku } }
             nodes(ids: $ids) { id ... on Category { slug } ... on Product { sku } } }""",
        {"one": product_id, "ids": [category_id, product_id]},
    )
    assert data["node"] == {"id": product_id, "sku": "NW-RUN-002"}
    assert data["nodes"] == [
        {"id": category_id, "slug": "home"},
        {"id": product_id, "sku": "NW-RUN-002"},
    ]
    too_many = await execute(
        services, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [product_id] * 101}
    )
    assert error_codes(too_many) == ["BAD_USER_INPUT"]


async def test_unexpected_errors_are_masked_with_the_request_id(services: Services) -> None:
    await services.catalog.products.insert_one({"sku": "BROKEN", "status": "bogus"})
    result = await execute(services, '{ product(sku: "BROKEN") { sku } }')
    assert result.data == {"product": None}
    assert result.errors is not None
    assert [e.formatted for e in result.errors] == [
        {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 3}],
            "path": ["product"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "test"},
        }
    ]


@pytest.mark.parametrize("locale", ["$bad", "de.DE", "xx-XX"])
async def test_attribute_filter_locales_are_validated(services: Services, locale: str) -> None:
    query = (
        f'{{ products(filter: {{ attributes: [{{ code: "material", locale: "{locale}", '
        'equals: "Mesh" }] }) { totalCount } }'
    )
    result = await execute(services, query)
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_attribute_filter_locales_are_case_insensitive(services: Services) -> None:
    arguments = (
        'filter: { attributes: [{ code: "material", locale: "de-de", equals: "Netzgewebe" }] }'
    )
    assert await skus(services, arguments) == ["NW-RUN-001"]


@pytest.mark.parametrize("value", [{"$regex": ".*"}, {"$foo": 1}, ["a"], {"$date": 5}])
async def test_crafted_cursors_are_rejected(services: Services, value: Any) -> None:
    import base64
    import json

    raw = json.dumps(["sku", 0, value, "0123456789abcdef01234567"]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    result = await execute(services, f'{{ products(after: "{cursor}") {{ totalCount }} }}')
    assert error_codes(result) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ products { edges { node { categories { products { edges { node { categories {"
            " products { edges { node { categories { products { edges { node { sku"
            " } } } } } } } } } } } } } } } }",
            "exceeds maximum operation depth",
        ),
        (
            "{ " + " ".join(f"a{i}: products {{ totalCount }}" for i in range(31)) + " }",
            "aliases found",
        ),
        (
            "{ products(filter: { brand: [" + ", ".join(['"b"'] * 51) + "] }) { totalCount } }",
            "'filter.brand' has 51 entries",
        ),
        (
            '{ product(sku: "NW-RUN-001") { attributes(codes: ['
            + ", ".join(['"c"'] * 101)
            + "]) { code } } }",
            "'codes' has 101 entries",
        ),
    ],
)
async def test_expensive_documents_are_refused(
    services: Services, query: str, message: str
) -> None:
    result = await execute(services, query)
    assert result.errors is not None
    assert message in result.errors[0].message


async def test_a_repeated_document_is_validated_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation (with the depth and alias limits) is cached per document across requests."""
    import strawberry.schema.schema as strawberry_schema
    from graphql.validation import validate

    assert vars(strawberry_schema)["validate"] is validate  # the function patched below
    calls = 0

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting_validate)
    query = '{ products(first: 2, filter: { brand: ["Acme"] }) { totalCount } }'
    for _ in range(3):
        assert (await execute(services, query)).errors is None
    assert calls == 1
